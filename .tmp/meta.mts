import { build } from 'esbuild';
import { esbuildOptionsOf } from '../lib/chat-bundling.ts';
const entry = process.argv[2]!;
const r = await build({ ...esbuildOptionsOf(), absWorkingDir: '/work/main', entryPoints: [entry], outfile: '/tmp/x/index.js', write: false, metafile: true, logLevel: 'silent' });
const out = Object.values(r.metafile.outputs).find(o => o.entryPoint);
const rows = Object.entries(out!.inputs).map(([k, v]) => [v.bytesInOutput, k] as const).sort((a, b) => b[0] - a[0]);
console.log(r.outputFiles.find(f=>f.path.endsWith('index.js'))!.contents.byteLength);
for (const [b, k] of rows.slice(0, 40)) console.log(b, k);
