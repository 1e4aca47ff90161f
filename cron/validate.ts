// Validation of the parts of a job Temporal would otherwise reject only when the schedule
// is created (or, worse, read differently than meant): cron expressions, time zones, ISO
// times and one-shot times. Each check returns a precise problem, or undefined when fine.
//
// Cron expressions are checked against the syntax Temporal's scheduler accepts, not the
// one of a Node cron library: Temporal reads a 6-field expression as `minute … year`, where
// libraries such as cron-parser read `second minute …`, so such a library would pass
// expressions that Temporal then runs at other times.
import { DURATION_PATTERN, parseDuration } from '../config/duration.js';

interface CronField {
  name: string;
  min: number;
  max: number;
  /** Names accepted for values (month or day of week), index = value - offset. */
  names?: readonly string[];
  namesFrom?: number;
  /** Shortest prefix of a name that is accepted. */
  minPrefix?: number;
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

const SECOND: CronField = { name: 'second', min: 0, max: 59 };
const MINUTE: CronField = { name: 'minute', min: 0, max: 59 };
const HOUR: CronField = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: CronField = { name: 'day of month', min: 1, max: 31 };
const MONTH: CronField = { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1, minPrefix: 3 };
const DAY_OF_WEEK: CronField = { name: 'day of week', min: 0, max: 7, names: DAYS, namesFrom: 0, minPrefix: 2 };
const YEAR: CronField = { name: 'year', min: 2000, max: 2100 };

const LAYOUTS: Record<number, CronField[]> = {
  5: [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK],
  6: [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR],
  7: [SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR],
};

/** The shorthands Temporal expands (`@every` is left to `schedule.every`). */
export const CRON_SHORTHANDS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'] as const;

/** A problem with a cron expression as Temporal reads it, or undefined. */
export function cronExpressionProblem(expression: string): string | undefined {
  const text = expression.trim();
  if (text === '') return 'expected a cron expression, e.g. "0 9 * * MON-FRI"';
  if (/^(CRON_)?TZ=/.test(text)) return 'put the time zone in schedule.timezone, not in the expression';
  if (text.startsWith('@every')) return 'use schedule.every (and schedule.offset) for intervals, not @every';
  if (text.includes('#')) return 'comments ("#") are not accepted in the expression; use the job\'s description';
  if (text.startsWith('@')) {
    return (CRON_SHORTHANDS as readonly string[]).includes(text) ? undefined : `unknown shorthand "${text}" (expected one of ${CRON_SHORTHANDS.join(', ')})`;
  }
  const fields = text.split(/\s+/);
  const layout = LAYOUTS[fields.length];
  if (!layout) {
    return `expected 5 fields (minute hour day-of-month month day-of-week), 6 (… year) or 7 (second … year), got ${fields.length}`;
  }
  for (let i = 0; i < fields.length; i++) {
    const problem = fieldProblem(fields[i]!, layout[i]!);
    if (problem) return `field ${i + 1} (${layout[i]!.name}) "${fields[i]}": ${problem}`;
  }
  return undefined;
}

function fieldProblem(text: string, field: CronField): string | undefined {
  for (const part of text.split(',')) {
    if (part === '') return 'empty list item';
    const pieces = part.split('/');
    if (pieces.length > 2) return `"${part}" has more than one "/"`;
    const [range, step] = pieces as [string, string | undefined];
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) return `step "${step}" is not a whole number of at least 1`;
    if (range === '*') continue;
    const bounds = range.split('-');
    if (bounds.length > 2) return `"${range}" is not a value or a range a-b`;
    const start = valueOf(bounds[0]!, field);
    if (typeof start === 'string') return start;
    if (bounds.length === 2) {
      const end = valueOf(bounds[1]!, field);
      if (typeof end === 'string') return end;
      if (end < start) return `range "${range}" ends before it starts`;
    }
  }
  return undefined;
}

function valueOf(text: string, field: CronField): number | string {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < field.min || value > field.max) return `${value} is out of range ${field.min}-${field.max}`;
    return value;
  }
  if (field.names && text.length >= (field.minPrefix ?? 3)) {
    const lower = text.toLowerCase();
    const index = field.names.findIndex((name) => name.startsWith(lower));
    if (index >= 0) return index + (field.namesFrom ?? 0);
  }
  const hint = field.names ? ` or a name such as ${field.names[1]!.slice(0, 3).toUpperCase()}` : '';
  return `"${text}" is not a number ${field.min}-${field.max}${hint}`;
}

const TIME_ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** A problem with an IANA time zone name (as Node's ICU knows them), or undefined. */
export function timezoneProblem(name: string): string | undefined {
  if (!TIME_ZONE_NAME.test(name) || name === 'Local') {
    return `"${name}" is not an IANA time zone name (e.g. UTC, Europe/Paris, America/New_York)`;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return undefined;
  } catch {
    return `unknown time zone "${name}" (expected an IANA name such as Europe/Paris)`;
  }
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A problem with an ISO 8601 time with an explicit offset, or undefined. */
export function isoTimeProblem(text: string): string | undefined {
  if (!ISO_TIME.test(text) || Number.isNaN(Date.parse(text))) {
    return `expected an ISO 8601 time with an offset, e.g. 2030-01-31T09:00:00Z or 2030-01-31T09:00:00+01:00`;
  }
  return undefined;
}

/** A problem with a one-shot's `at` (an ISO time or a delay such as 20m), or undefined. */
export function atProblem(text: string): string | undefined {
  if (DURATION_PATTERN.test(text)) return undefined;
  if (ISO_TIME.test(text) && !Number.isNaN(Date.parse(text))) return undefined;
  return 'expected an ISO 8601 time with an offset (2030-01-31T09:00:00Z) or a delay from now (20m, 2h, 1d)';
}

/** When a one-shot fires, in milliseconds since the epoch: an ISO time, or `now` plus a delay. */
export function resolveAt(text: string, now: number): number {
  if (DURATION_PATTERN.test(text)) return now + parseDuration(text);
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new Error(atProblem(text));
  return time;
}

/** A problem with an interval (`every`): Temporal counts in whole seconds. */
export function intervalProblem(text: string, what = 'every'): string | undefined {
  const ms = parseDuration(text);
  if (ms < 1000) return `${what} must be at least 1s`;
  if (ms % 1000 !== 0) return `${what} must be a whole number of seconds (Temporal rounds intervals to seconds)`;
  return undefined;
}
