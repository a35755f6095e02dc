# shellcheck shell=bash
# The Java 17 flags Spark (and Kryo, Netty, ND4J) need, as a bash array: sourced by bin/imgtrain, deploy/local/*.sh
# and deploy/yarn/submit.sh, which pass them to the driver JVM and, as spark.{driver,executor}.extraJavaOptions, to
# executors. The one other copy is imgtrain.jvm.flags in pom.xml (Surefire/Failsafe); JvmFlagsTest keeps them equal.
JAVA17_FLAGS=(
  -XX:+IgnoreUnrecognizedVMOptions
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
  --add-opens=java.base/sun.security.action=ALL-UNNAMED
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  -Djdk.reflect.useDirectMethodHandle=false
  -Dio.netty.tryReflectionSetAccessible=true
)
# The collector of the JVMs that train: bin/imgtrain's (a local master's executors are its threads) and, through
# deploy/local/submit.sh, conf/spark-yarn.conf, deploy/k8s and the Airflow DAG's Spark settings, the driver and the
# executors of a cluster. A training JVM's big data is off the heap (ND4J's arrays, the batch cache); on the heap it
# churns: each averaging round's 3.3 MB task results and broadcast blocks, which G1 allocates as humongous objects and
# follows with concurrent marking cycles (7 % of a local[2] epoch's CPU on 2 cores in a perf profile, taken from the
# two worker threads). The parallel collector has no concurrent phase: on local[2], 4-epoch MNIST runs side by side
# gave a median second epoch of 1.43 s against G1's 1.75 s (5 runs each, 2026-12-06, AMD EPYC, 2 cores). Not for
# the tests (pom.xml) or the Spark and Hadoop daemons, which do not train. bin/imgtrain leaves it out when its
# IMGTRAIN_JAVA_OPTS picks a collector (two collectors stop the JVM from starting).
GC_FLAGS=(-XX:+UseParallelGC)
# The BLAS, for bin/imgtrain and deploy/local/submit.sh (driver and executors alike): Debian's OpenBLAS 0.3.21 instead
# of the 0.3.19 that ND4J 1.0.0-M2 bundles, when installed, unless IMGTRAIN_BLAS=bundled. Single-threaded, as each
# worker runs, both do 100 GFLOP/s at 2048^3, but at a training step's shapes 0.3.19 is 20-40 % slower (mnist-dense-512,
# batch 64: 73 against 90 GFLOP/s); and a cluster's JVMs should share the local run's kernels, which round alike.
BLAS_FLAGS=()
if [[ ${IMGTRAIN_BLAS:-system} == system && -e /usr/lib/x86_64-linux-gnu/libopenblas.so.0 ]]; then
  BLAS_FLAGS=(-Dorg.bytedeco.openblas.load=openblas)
fi
