# Sourced by the bin/ scripts: finds a JDK >= 21 and exports JAVA_HOME and PATH for it.
# Order: $JAVA_HOME if it is >= 21; `java` on the PATH if it is >= 21; else the newest
# JDK >= 21 under /usr/lib/jvm (Debian/Ubuntu, Temurin packages) or /Library/Java (macOS).

yaad_java_major() { # $1 = path to a java binary; prints its feature version, e.g. 21
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}

yaad_find_jdk() {
  local candidate major best="" best_major=0
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    major=$(yaad_java_major "$JAVA_HOME/bin/java")
    if [ "${major:-0}" -ge 21 ]; then echo "$JAVA_HOME"; return 0; fi
  fi
  if command -v javac >/dev/null 2>&1; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    major=$(yaad_java_major "$candidate/bin/java")
    if [ "${major:-0}" -ge 21 ]; then echo "$candidate"; return 0; fi
  fi
  for candidate in /usr/lib/jvm/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -x "$candidate/bin/javac" ] || continue
    major=$(yaad_java_major "$candidate/bin/java")
    if [ "${major:-0}" -ge 21 ] && [ "$major" -gt "$best_major" ]; then best="$candidate"; best_major=$major; fi
  done
  [ -n "$best" ] && echo "$best"
}

YAAD_JDK=$(yaad_find_jdk)
if [ -z "$YAAD_JDK" ]; then
  echo "yaad: needs a JDK 21 or newer. None found in JAVA_HOME, on the PATH or under /usr/lib/jvm." >&2
  echo "yaad: install one (e.g. 'apt-get install openjdk-21-jdk' or Temurin 21+) or set JAVA_HOME to it." >&2
  exit 1
fi
export JAVA_HOME="$YAAD_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
# Maven 3 on JDK 24+ warns about its own use of sun.misc.Unsafe; the warning is not ours.
if [ "$(yaad_java_major "$JAVA_HOME/bin/java")" -ge 24 ]; then
  export MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
fi
if ! command -v mvn >/dev/null 2>&1; then
  echo "yaad: needs Apache Maven 3.8+ on the PATH to build (e.g. 'apt-get install maven')." >&2
  exit 1
fi
