// Small statistics for benchmark reports: medians and percentiles, never means alone.
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: number[]) => percentile(values, 50);

export function summarize(values: number[]): { n: number; p50: number; p90: number; p99: number; min: number; max: number } {
  return {
    n: values.length,
    p50: median(values),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

export const ms = (value: number) => `${value.toFixed(0)} ms`;
