// The ratios of bench/peer-compare.sh: devicegate's median req/s over oidc-provider's, per adapter and scenario,
// against the targets (Express ≥ 1.0×, Fastify ≥ 1.5×). The driver writes one file per round
// (`<label>__<round>.json`); the rounds of a label are taken together, and written to `mergedDir` when given.
//   node bench/peer-ratios.mjs results [merged]
import fs from 'node:fs';

const [dir = 'results', mergedDir] = process.argv.slice(2);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rounds = new Map();
for (const file of fs.readdirSync(dir).filter((name) => name.endsWith('.json'))) {
  const result = JSON.parse(fs.readFileSync(`${dir}/${file}`, 'utf8'));
  const label = result.label.replace(/__\d+$/, '');
  rounds.set(label, [...(rounds.get(label) ?? []), result]);
}
const results = new Map();
for (const [label, parts] of rounds) {
  const runsDetail = parts.flatMap((part) => part.runsDetail);
  const responseMix = {};
  for (const part of parts) for (const [answer, count] of Object.entries(part.responseMix)) responseMix[answer] = (responseMix[answer] ?? 0) + count;
  results.set(label, { rps: median(runsDetail.map((run) => run.rps)), p99: median(runsDetail.map((run) => run.p99)) });
  if (mergedDir) {
    fs.mkdirSync(mergedDir, { recursive: true });
    const merged = { ...parts[0], label, runs: runsDetail.length, runsDetail, responseMix };
    fs.writeFileSync(`${mergedDir}/${label}.json`, JSON.stringify(merged, null, 2));
  }
}
const TARGETS = { express: 1.0, fastify: 1.5 };
console.log('\n| scenario | adapter | devicegate req/s (p99 ms) | oidc-provider 9 + Redis req/s (p99 ms) | ratio | target |');
console.log('| --- | --- | ---: | ---: | ---: | --- |');
for (const scenario of ['device_authorization', 'pending_poll', 'introspection']) {
  const peer = results.get(`oidc-provider_${scenario}`);
  for (const adapter of Object.keys(TARGETS)) {
    const ours = results.get(`devicegate_${adapter}_${scenario}`);
    if (!peer || !ours) continue;
    const ratio = ours.rps / peer.rps;
    const held = ratio >= TARGETS[adapter] ? 'holds' : 'does not hold';
    console.log(
      `| ${scenario.replace('_', ' ')} | ${adapter} | ${Math.round(ours.rps)} (${ours.p99}) | ${Math.round(peer.rps)} (${peer.p99}) | ${ratio.toFixed(2)}× | ≥ ${TARGETS[adapter].toFixed(1)}× ${held} |`,
    );
  }
}
