// bench/heap-sample.cjs - what a running Talus allocates, sampled by V8's heap
// profiler over a window you choose (docs/benchmarks.md, "Session 15").
//
// Preload it: TALUS_NODE_OPTIONS="--max-semi-space-size=2 --expose-gc --no-lazy
// -r $PWD/bench/heap-sample.cjs" bin/talus ...; then `kill -USR2 <pid>` starts
// sampling (an allocation every 1 KB on average, collected or not), a second
// `kill -USR2` stops and writes the profile to $HEAP_OUT (default
// ./talus.heapprofile). `node bench/heap-summary.cjs <file> <requests>` prints
// bytes per request by allocating function.
const inspector = require('node:inspector');
const fs = require('node:fs');

const session = new inspector.Session();
session.connect();
let sampling = false;
process.on('SIGUSR2', () => {
  if (!sampling) {
    sampling = true;
    session.post('HeapProfiler.enable', () =>
      session.post('HeapProfiler.startSampling', {
        samplingInterval: 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      }),
    );
    return;
  }
  sampling = false;
  session.post('HeapProfiler.stopSampling', (err, result) => {
    if (err) throw err;
    fs.writeFileSync(process.env.HEAP_OUT || 'talus.heapprofile', JSON.stringify(result.profile));
  });
});
