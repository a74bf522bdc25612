// How numbers from the API are shown. The raw value stays in data-value so
// tests compare the page with the API exactly.
export const integer = (n: number): string => Math.round(n).toLocaleString('en-US');
export const percent = (ratio: number): string => (ratio * 100).toFixed(1) + '%';
export const usd = (n: number): string =>
  '$' + (n === 0 ? '0' : n < 0.01 ? n.toPrecision(2) : n.toLocaleString('en-US', { maximumFractionDigits: 4 }));
export const ms = (n: number | null): string => (n === null || n === undefined ? '—' : integer(n) + ' ms');
export const seconds = (n: number): string =>
  n >= 3600 ? `${Math.floor(n / 3600)} h ${Math.floor((n % 3600) / 60)} min` : n >= 60 ? `${Math.floor(n / 60)} min` : `${n} s`;
export const dateTime = (ms: number | string | null): string =>
  ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
