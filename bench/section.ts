/** What every bench section gets: the size of the run and a place to register clean-ups. */
export interface SectionContext {
  /** `--quick`: every section small, the whole run under two minutes */
  quick: boolean;
  /** registers a clean-up run when the bench is cut short (signal, watchdog) */
  onCleanup: (fn: () => Promise<void>) => void;
}
/** One line of the targets block: ours against its baseline, with the target. */
export interface TargetLine {
  label: string;
  ours: string;
  baseline: string;
  /** ours / baseline, or the figure against its limit, as printed */
  ratio: number;
  /** e.g. '>= 0.60' or '<= 400 B' */
  target: string;
  met: boolean;
}
export interface SectionResult {
  /** extra rows for the summary table: [measure, baseline, candidate, ratio] */
  rows: (string | number)[][];
  targets: TargetLine[];
}
