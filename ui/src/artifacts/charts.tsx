// Confusion matrix and ROC curve, drawn without a chart library.

import { formatNumber } from '../lib/format';

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
}

export function ConfusionMatrix({ labels, rows }: { labels: string[]; rows: unknown[][] }) {
  const values = rows.map((r) => r.map(num));
  const max = Math.max(1, ...values.flat());
  const rowTotals = values.map((r) => r.reduce((a, b) => a + b, 0));
  return (
    <div className="table-wrap">
      <table className="confusion" data-testid="confusion-matrix" aria-label="Confusion matrix: rows are actual classes, columns predicted ones">
        <thead>
          <tr>
            <th className="corner" scope="col">
              <span className="muted small">actual ↓ / predicted →</span>
            </th>
            {labels.map((l) => (
              <th key={l} scope="col">
                {l}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {values.map((r, i) => (
            <tr key={i}>
              <th scope="row">{labels[i] ?? i}</th>
              {r.map((v, j) => {
                const a = v / max;
                return (
                  <td
                    key={j}
                    className={i === j ? 'diag' : undefined}
                    style={{ background: `rgba(37, 99, 235, ${0.08 + a * 0.8})`, color: a > 0.55 ? '#fff' : undefined }}
                    title={`actual ${labels[i]}, predicted ${labels[j]}: ${v}${rowTotals[i] ? ` (${Math.round((100 * v) / rowTotals[i])}% of the row)` : ''}`}
                  >
                    {formatNumber(v)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export interface RocPoint {
  fpr: number;
  tpr: number;
  threshold: number;
}

/** Points of a ROC curve from KFP confidence metrics (either case of keys). */
export function rocPoints(confidence: unknown[]): RocPoint[] {
  const pts: RocPoint[] = [];
  for (const c of confidence) {
    if (!c || typeof c !== 'object') continue;
    const o = c as Record<string, unknown>;
    const fpr = o.falsePositiveRate ?? o.false_positive_rate ?? o.fpr;
    const tpr = o.recall ?? o.truePositiveRate ?? o.true_positive_rate ?? o.tpr;
    const th = o.confidenceThreshold ?? o.confidence_threshold ?? o.threshold;
    if (fpr === undefined || tpr === undefined) continue;
    pts.push({ fpr: num(fpr), tpr: num(tpr), threshold: num(th) });
  }
  pts.sort((a, b) => a.fpr - b.fpr || a.tpr - b.tpr);
  return pts;
}

/** The area under a ROC curve (trapezoids from (0,0) to (1,1)). */
export function auc(pts: RocPoint[]): number {
  const all = [{ fpr: 0, tpr: 0 }, ...pts, { fpr: 1, tpr: 1 }];
  let a = 0;
  for (let i = 1; i < all.length; i++) a += ((all[i].fpr - all[i - 1].fpr) * (all[i].tpr + all[i - 1].tpr)) / 2;
  return a;
}

export function RocCurve({ points }: { points: RocPoint[] }) {
  const W = 320;
  const H = 320;
  const M = 40;
  const x = (v: number) => M + v * (W - M - 10);
  const y = (v: number) => H - M - v * (H - M - 10);
  const d = [{ fpr: 0, tpr: 0 }, ...points, { fpr: 1, tpr: 1 }].map((p, i) => `${i ? 'L' : 'M'}${x(p.fpr).toFixed(1)},${y(p.tpr).toFixed(1)}`).join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <figure className="roc" data-testid="roc-curve">
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={`ROC curve, area under the curve ${auc(points).toFixed(3)}`}>
        <rect x={x(0)} y={y(1)} width={x(1) - x(0)} height={y(0) - y(1)} fill="#fafbfc" stroke="#d0d7de" />
        {ticks.map((t) => (
          <g key={t}>
            <line x1={x(t)} y1={y(0)} x2={x(t)} y2={y(1)} stroke="#eef1f4" />
            <line x1={x(0)} y1={y(t)} x2={x(1)} y2={y(t)} stroke="#eef1f4" />
            <text x={x(t)} y={y(0) + 14} fontSize="10" textAnchor="middle" fill="#57606a">
              {t}
            </text>
            <text x={x(0) - 6} y={y(t) + 3} fontSize="10" textAnchor="end" fill="#57606a">
              {t}
            </text>
          </g>
        ))}
        <line x1={x(0)} y1={y(0)} x2={x(1)} y2={y(1)} stroke="#afb8c1" strokeDasharray="4 4" />
        <path d={d} fill="none" stroke="#2563eb" strokeWidth="2" />
        {points.map((p, i) => (
          <circle key={i} cx={x(p.fpr)} cy={y(p.tpr)} r="2.5" fill="#2563eb">
            <title>{`threshold ${formatNumber(p.threshold)}: FPR ${formatNumber(p.fpr)}, TPR ${formatNumber(p.tpr)}`}</title>
          </circle>
        ))}
        <text x={(x(0) + x(1)) / 2} y={H - 6} fontSize="11" textAnchor="middle" fill="#24292f">
          false positive rate
        </text>
        <text x={12} y={(y(0) + y(1)) / 2} fontSize="11" textAnchor="middle" fill="#24292f" transform={`rotate(-90 12 ${(y(0) + y(1)) / 2})`}>
          true positive rate
        </text>
      </svg>
      <figcaption className="muted small">AUC {auc(points).toFixed(3)} · {points.length} thresholds</figcaption>
    </figure>
  );
}
