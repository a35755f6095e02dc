#!/usr/bin/env bash
# Starts the project's S3-compatible server, S3Proxy (org.gaul:s3proxy, version from the parent pom), on 127.0.0.1
# as its own JVM with the jclouds filesystem backend: a bucket is a directory under $IMGTRAIN_S3_DIR/data. It checks
# SigV2/SigV4 signatures against one access key / secret key pair.
#
# Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment when both are set; otherwise a pair is
# made once and kept in $IMGTRAIN_S3_DIR/credentials.env (mode 600). `source` that file for bin/imgtrain.
# Environment: IMGTRAIN_S3_DIR (default ./.s3), IMGTRAIN_S3_PORT (default 9000), IMGTRAIN_S3_BUCKETS (default
# "imgtrain", space-separated; created as directories). Idempotent: a server already running is left as it is.
# The jar is fetched from Maven Central with `mvn dependency:copy` unless it is already in $IMGTRAIN_S3_DIR.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=${IMGTRAIN_S3_DIR:-$root/.s3}
port=${IMGTRAIN_S3_PORT:-9000}
buckets=${IMGTRAIN_S3_BUCKETS:-imgtrain}
mkdir -p "$dir/data"
dir=$(cd "$dir" && pwd)
version=$(sed -n 's:.*<s3proxy.version>\(.*\)</s3proxy.version>.*:\1:p' "$root/pom.xml")
jar=$dir/s3proxy-$version-jar-with-dependencies.jar
endpoint=http://127.0.0.1:$port

up() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

if [[ -f $dir/s3proxy.pid ]] && kill -0 "$(cat "$dir/s3proxy.pid")" 2>/dev/null && up; then
  echo "S3Proxy already running (pid $(cat "$dir/s3proxy.pid")) at $endpoint"
  exit 0
fi
if up; then
  echo "deploy/s3/start.sh: port $port on 127.0.0.1 is taken by another process; set IMGTRAIN_S3_PORT" >&2
  exit 1
fi
if [[ ! -f $jar ]]; then
  echo "fetching S3Proxy $version from Maven Central" >&2
  mvn -B -q dependency:copy -Dartifact="org.gaul:s3proxy:$version:jar:jar-with-dependencies" \
    -DoutputDirectory="$dir" -Dmdep.overWriteReleases=false >&2
fi

umask 077
if [[ -n ${AWS_ACCESS_KEY_ID:-} && -n ${AWS_SECRET_ACCESS_KEY:-} ]]; then
  access=$AWS_ACCESS_KEY_ID
  secret=$AWS_SECRET_ACCESS_KEY
else
  if [[ ! -f $dir/credentials.env ]]; then
    printf 'export AWS_ACCESS_KEY_ID=imgtrain-%s\nexport AWS_SECRET_ACCESS_KEY=%s\n' \
      "$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')" "$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')" \
      > "$dir/credentials.env"
  fi
  # shellcheck disable=SC1091
  access=$(. "$dir/credentials.env" && echo "$AWS_ACCESS_KEY_ID")
  secret=$(. "$dir/credentials.env" && echo "$AWS_SECRET_ACCESS_KEY")
fi
cat > "$dir/s3proxy.properties" <<PROPS
s3proxy.endpoint=$endpoint
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$access
s3proxy.credential=$secret
jclouds.provider=filesystem
jclouds.filesystem.basedir=$dir/data
PROPS
for b in $buckets; do mkdir -p "$dir/data/$b"; done

nohup java -Xmx512m -jar "$jar" --properties "$dir/s3proxy.properties" > "$dir/s3proxy.log" 2>&1 &
echo $! > "$dir/s3proxy.pid"
for _ in $(seq 1 120); do
  if up; then
    echo "S3Proxy $version running (pid $(cat "$dir/s3proxy.pid")) at $endpoint; buckets: $buckets; data in $dir/data"
    echo "log: $dir/s3proxy.log"
    [[ -f $dir/credentials.env && -z ${AWS_SECRET_ACCESS_KEY:-} ]] && echo "credentials: source $dir/credentials.env"
    echo "use: bin/imgtrain run --config conf/s3-local.conf --warehouse s3a://${buckets%% *}/warehouse" \
      "(or --set storage.s3a.endpoint=$endpoint with a port other than 9000)"
    exit 0
  fi
  if ! kill -0 "$(cat "$dir/s3proxy.pid")" 2>/dev/null; then
    echo "deploy/s3/start.sh: S3Proxy exited at start; its log ($dir/s3proxy.log) ends with:" >&2
    tail -n 20 "$dir/s3proxy.log" >&2
    exit 1
  fi
  sleep 0.25
done
echo "deploy/s3/start.sh: S3Proxy did not open port $port within 30 s; see $dir/s3proxy.log" >&2
exit 1
