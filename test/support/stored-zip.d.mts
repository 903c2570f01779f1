export interface ZipInput {
  readonly name: string;
  readonly content?: string | Buffer;
  /** Unix mode including the type bits; default 0o100644 (file), 0o040755 for a name ending in `/`. Use 0o120777 for a symlink. */
  readonly mode?: number;
}

export declare function makeZip(entries: readonly ZipInput[]): Buffer;
