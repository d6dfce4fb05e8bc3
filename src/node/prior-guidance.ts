// `vqgpu sample`, `eval-samples` and `compare`'s class and guidance flags: --class NAME|INDEX
// parsing, --list-classes' listing, and the guidance a run uses from --cfg / --cfg-schedule. The
// browser-safe parts (class names and frequencies, seeded class draws, DEFAULT_CFG, the prior's
// logits functions) are in src/models/prior/classes.ts and sampling.ts, shared with the web page.

import type { PriorConfig } from '../models/prior/config.js';
import { DEFAULT_CFG, DEFAULT_CFG_SCHEDULE, guidanceOf } from '../models/prior/classes.js';
import { checkGuidance, GUIDANCE_SCHEDULES, type GuidanceOptions, type GuidanceSchedule } from '../sample/guidance.js';
import { UsageError, type FlagSpec } from '../io/flags.js';

export { classBlocks, parseClass } from '../models/prior/classes.js';

export const GUIDANCE_FLAGS: Record<string, FlagSpec> = {
  cfg: { type: 'number', help: `class-conditional priors: classifier-free guidance scale S, logits uncond + S·(cond − uncond); 1: plain conditional (default for priors trained with --label-drop: ${Object.entries(DEFAULT_CFG).map(([k, v]) => `${k} ${v}`).join(', ')}; else 1)`, min: -100, max: 100 },
  'cfg-schedule': { type: 'string', help: `guidance over the steps: constant S, or linear from 1 to S (default: ${Object.entries(DEFAULT_CFG_SCHEDULE).map(([k, v]) => `${k} ${v}`).join(', ')})`, choices: GUIDANCE_SCHEDULES },
};

/** The listing of `--list-classes`: one "index<TAB>name" line per class. */
export function classListing(names: string[]): string {
  return names.map((n, i) => `${i}\t${n}`).join('\n');
}

/**
 * The guidance a sampling run uses, from --cfg / --cfg-schedule (undefined when not given: the
 * prior's defaults, guidanceOf): null for plain sampling (S = 1, or an unconditional prior). Unconditional priors refuse
 * both flags; a conditional prior trained without label drop gets a warning when S ≠ 1.
 */
export function resolveGuidance(c: PriorConfig, cfg: number | undefined, schedule: string | undefined, priorPath: string, command = 'sample'): GuidanceOptions | null {
  if (c.classes === 0) {
    if (cfg !== undefined || schedule !== undefined) {
      throw new UsageError(`${command}: --cfg/--cfg-schedule need a class-conditional prior; '${priorPath}' is unconditional (train one with \`train-prior --class-cond\`).`);
    }
    return null;
  }
  const g = guidanceOf(c, cfg, schedule as GuidanceSchedule | undefined);
  if (!g) return null;
  checkGuidance(g);
  if ((c.labelDrop ?? 0) === 0) {
    console.error(`warning: prior '${priorPath}' was trained without label drop, so its unconditional logits were never trained; --cfg ${g.scale} may give poor images (retrain with --label-drop).`);
  }
  return g;
}
