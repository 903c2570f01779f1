#!/bin/sh
# Compiles the runtime client: build.sh SRC OUT -> OUT/gantry-runtime.jar, for Java 17 and later
# (javac --release 17), against Debian's Jackson in /usr/share/java.
set -eu
src="$1"
out="$2"
cp="/usr/share/java/jackson-databind.jar:/usr/share/java/jackson-core.jar:/usr/share/java/jackson-annotations.jar"
rm -rf "$out"
mkdir -p "$out/classes"
find "$src/src" -name '*.java' > "$out/sources.txt"
javac --release 17 -encoding UTF-8 -Xlint:all,-serial,-options,-path -Werror -cp "$cp" -d "$out/classes" @"$out/sources.txt"
jar --create --file "$out/gantry-runtime.jar" -C "$out/classes" .
rm -rf "$out/classes" "$out/sources.txt"
