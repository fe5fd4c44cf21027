#!/usr/bin/env bash
# Fetches the official Apache Linkis client jars from Maven Central (through mvn) into a cache
# directory and prints their classpath on stdout. Runs offline once the cache is complete.
#
#   scripts/linkis-clients.sh            # prints the classpath (fetching on first use)
#   LINKIS_CLIENT_VERSION=1.6.0 scripts/linkis-clients.sh
#
# What is fetched: org.apache.linkis:linkis-computation-client (the Linkis Java SDK: UJESClient and
# LinkisJobClient, the library linkis-cli and the Linkis JDBC driver are built on) with its runtime
# dependencies. linkis-cli's application module (the LinkisClientApplication main class) and
# linkis-jdbc-driver are not published to Maven Central for any version, so they cannot be fetched
# here; see docs/linkis-compatibility.md.
#
# Settings: LINKIS_CLIENT_VERSION (default 1.7.0, the newest release of the SDK on Maven Central),
# LINKIS_CLIENTS_CACHE (default <repo>/.cache/linkis-clients; never committed).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
version="${LINKIS_CLIENT_VERSION:-1.7.0}"
cache="${LINKIS_CLIENTS_CACHE:-$root/.cache/linkis-clients}"
dir="$cache/$version"
artifacts=(org.apache.linkis:linkis-computation-client)

if [ ! -f "$dir/.complete" ]; then
  command -v mvn >/dev/null || { echo "linkis-clients: mvn is not installed" >&2; exit 3; }
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo '<groupId>local.sluice</groupId><artifactId>linkis-clients</artifactId><version>1</version><packaging>pom</packaging>'
    echo '<dependencies>'
    for a in "${artifacts[@]}"; do
      echo "<dependency><groupId>${a%%:*}</groupId><artifactId>${a##*:}</artifactId><version>$version</version></dependency>"
    done
    echo '</dependencies></project>'
  } >"$dir.tmp/pom.xml"
  echo "linkis-clients: fetching ${artifacts[*]} $version from Maven Central into $dir" >&2
  if ! mvn -q -B -f "$dir.tmp/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir.tmp/lib" >&2; then
    echo "linkis-clients: mvn could not fetch ${artifacts[*]}:$version and its dependencies" >&2
    exit 4
  fi
  touch "$dir.tmp/.complete"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
fi

ls "$dir"/lib/*.jar | tr '\n' ':' | sed 's/:$/\n/'
