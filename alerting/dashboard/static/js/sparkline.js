// The SVG path of one sparkline: minutes along x, the sign's value along y.

export const VIEW_HEIGHT = 40;
const PADDING = 3;
// A gap of more than this many minutes between points is drawn as a break in the line: the
// signal was lost, and joining across it would invent readings.
const MAX_JOIN_MINUTES = 5;

// `points` are [minute, ...values]; `index` picks the value; the window ends at `lastMinute`.
export function sparklinePath(points, index, lastMinute, windowMinutes, minSpan) {
  const firstMinute = lastMinute - windowMinutes + 1;
  let low = Infinity;
  let high = -Infinity;
  for (const point of points) {
    const value = point[index];
    if (value === null || value === undefined || point[0] < firstMinute) continue;
    if (value < low) low = value;
    if (value > high) high = value;
  }
  if (low === Infinity) return '';
  if (high - low < minSpan) {
    const middle = (high + low) / 2;
    low = middle - minSpan / 2;
    high = middle + minSpan / 2;
  }
  const scale = (VIEW_HEIGHT - 2 * PADDING) / (high - low);
  let path = '';
  let previousMinute = null;
  for (const point of points) {
    const value = point[index];
    if (point[0] < firstMinute) continue;
    if (value === null || value === undefined) {
      previousMinute = null;
      continue;
    }
    const x = point[0] - firstMinute;
    const y = VIEW_HEIGHT - PADDING - (value - low) * scale;
    const join = previousMinute !== null && point[0] - previousMinute <= MAX_JOIN_MINUTES;
    path += `${join ? 'L' : 'M'}${x} ${y.toFixed(1)}`;
    if (!join) path += `h0.5`; // a lone point still shows as a dot
    previousMinute = point[0];
  }
  return path;
}
