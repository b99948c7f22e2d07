// bench/heap-summary.cjs <profile> <requests> - bytes allocated per request by
// allocating function (its own allocations; inlined callees count as theirs),
// from a profile bench/heap-sample.cjs wrote.
const fs = require('node:fs');

const [file, requests] = process.argv.slice(2);
if (!file || !(Number(requests) > 0)) {
  console.error('usage: node bench/heap-summary.cjs <profile> <requests>');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byFunction = new Map();
let total = 0;
const walk = (node) => {
  const f = node.callFrame;
  const name = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/dist\//, 'dist/')}:${f.lineNumber + 1}`;
  if (node.selfSize > 0) {
    byFunction.set(name, (byFunction.get(name) || 0) + node.selfSize);
    total += node.selfSize;
  }
  for (const child of node.children) walk(child);
};
walk(profile.head);
const n = Number(requests);
console.log(`${(total / n).toFixed(0)} bytes per request`);
for (const [name, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(`${(bytes / n).toFixed(1).padStart(8)}  ${name}`);
}
