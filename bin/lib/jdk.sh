# Sourced by bin/baton and bin/test: sets $jdk to a JDK 25 or newer, or explains what to do.

# The major version a JDK directory declares in its release file, without starting a JVM.
jdk_major() {
  local v
  v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null) || return 1
  [ -n "$v" ] && echo "$v"
}

find_jdk() {
  local dir major
  for dir in "${BATON_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /opt/jdk*; do
    [ -n "$dir" ] && [ -x "$dir/bin/java" ] && [ -x "$dir/bin/javac" ] || continue
    major=$(jdk_major "$dir") || continue
    if [ "$major" -ge 25 ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

if ! jdk=$(find_jdk); then
  cat >&2 <<'MSG'
baton: no JDK 25 or newer found (looked at $BATON_JAVA_HOME, $JAVA_HOME, /usr/lib/jvm/*, /opt/java/*).
Install one (e.g. Temurin 25: apt-get install temurin-25-jdk from Adoptium's apt repository),
or point BATON_JAVA_HOME at one: BATON_JAVA_HOME=/path/to/jdk-25 bin/baton ...
MSG
  exit 2
fi
export JAVA_HOME="$jdk"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
