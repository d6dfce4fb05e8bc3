// Command-line flags: `--name value` or `--flag` (boolean). Every command declares its flags;
// an unknown flag or a bad value is one clear sentence and exit code 2 (UsageError).

export class UsageError extends Error {}

export type FlagType = 'string' | 'int' | 'number' | 'boolean';

export interface FlagSpec {
  type: FlagType;
  /** shown in help */
  help: string;
  default?: string | number | boolean;
  /** inclusive bounds for numbers */
  min?: number;
  max?: number;
  /** an exclusive lower bound (a temperature: > 0) */
  above?: number;
  choices?: readonly string[];
  required?: boolean;
}

export type Flags = Record<string, string | number | boolean | undefined>;

export function parseFlags(argv: string[], specs: Record<string, FlagSpec>, command: string): Flags {
  const out: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new UsageError(`${command}: unexpected argument '${a}' (flags start with --).`);
    const eq = a.indexOf('=');
    const name = a.slice(2, eq > 0 ? eq : undefined);
    const spec = specs[name];
    if (!spec) {
      throw new UsageError(`${command}: unknown flag --${name}. Valid flags: ${Object.keys(specs).map((k) => `--${k}`).join(' ')}.`);
    }
    if (spec.type === 'boolean') {
      out[name] = eq > 0 ? a.slice(eq + 1) !== 'false' : true;
      continue;
    }
    const raw = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (raw === undefined || (eq < 0 && raw.startsWith('--'))) throw new UsageError(`${command}: --${name} needs a value.`);
    out[name] = parseValue(name, raw, spec, command);
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (out[name] === undefined && spec.default !== undefined) out[name] = spec.default;
    if (out[name] === undefined && spec.required) throw new UsageError(`${command}: --${name} is required (${spec.help}).`);
  }
  return out;
}

function parseValue(name: string, raw: string, spec: FlagSpec, command: string): string | number {
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(raw)) {
      throw new UsageError(`${command}: --${name} must be one of ${spec.choices.join(', ')}; got '${raw}'.`);
    }
    return raw;
  }
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (spec.type === 'int' && !Number.isInteger(v))) {
    throw new UsageError(`${command}: --${name} must be ${spec.type === 'int' ? 'an integer' : 'a number'}; got '${raw}'.`);
  }
  if (spec.above !== undefined && (!(v > spec.above) || (spec.max !== undefined && v > spec.max))) {
    throw new UsageError(`${command}: --${name} must be greater than ${spec.above}${spec.max !== undefined ? ` and at most ${spec.max}` : ''}; got ${v}.`);
  }
  if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
    throw new UsageError(`${command}: --${name} must be between ${spec.min ?? '-∞'} and ${spec.max ?? '∞'}; got ${v}.`);
  }
  return v;
}

export function helpText(command: string, summary: string, specs: Record<string, FlagSpec>): string {
  const lines = [`vqgpu ${command}: ${summary}`, ''];
  const names = Object.entries(specs).map(([k, s]) => `  --${k}${s.type === 'boolean' ? '' : ` <${s.type}>`}`);
  // One column for the help texts, wide enough for the longest name (a longer one than 36
  // characters puts its help on the next line, never glued to the name).
  const col = Math.min(36, Math.max(28, ...names.map((n) => n.length + 2)));
  Object.values(specs).forEach((s, i) => {
    const def = s.default !== undefined ? ` (default ${s.default})` : '';
    const name = names[i].length + 1 > col ? names[i] + '\n' + ' '.repeat(col) : names[i].padEnd(col);
    lines.push(name + s.help + def);
  });
  return lines.join('\n');
}
