-- SigV4 access keys (issue 15 §3): an id like AWS's and its secret, which Gantry must read back
-- to verify signatures, so it is stored sealed (AES-256-GCM, control-plane/secrets/secret-box.ts)
-- under the key in GANTRY_ENCRYPTION_KEY_FILE, never in plain text. A revoked key is deleted.
CREATE TABLE access_keys (
  id                text PRIMARY KEY CHECK (id ~ '^AKIA[A-Z2-7]{16}$'),
  tenant_id         text NOT NULL REFERENCES tenants (id),
  secret_sealed     text NOT NULL,
  description       text NOT NULL DEFAULT '',
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX access_keys_tenant_idx ON access_keys (tenant_id);
