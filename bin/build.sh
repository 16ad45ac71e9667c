# Sourced by the bin/ scripts after java-env.sh: builds a module's jar (and copies its
# runtime libraries to target/lib) when it is missing or older than any source file.

yaad_ensure_built() { # $1 = module directory, e.g. yaad-server
  local module="$1" jar="$YAAD_ROOT/$1/target/$1.jar"
  if [ -f "$jar" ] && [ -z "$(find "$YAAD_ROOT/pom.xml" "$YAAD_ROOT"/yaad-*/pom.xml "$YAAD_ROOT"/yaad-*/src/main \
      -newer "$jar" -type f -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  echo "yaad: building $module (first run or sources changed; this takes a minute)..." >&2
  local output
  if ! output=$(cd "$YAAD_ROOT" && mvn -B -q -Dstyle.color=never -DskipTests -pl "$module" -am package 2>&1); then
    printf '%s\n' "$output" >&2
    echo "yaad: the build failed (output above); 'mvn -B -DskipTests -pl $module -am package' shows it in full." >&2
    exit 1
  fi
}
