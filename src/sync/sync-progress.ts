/**
 * Progress of `hub sync`. A TTY gets a bar redrawn in place. Other outputs (a log file, a CI job) get plain lines:
 * one when a phase starts, then one per tenth of the phase or every 10 seconds.
 */
import type { ReconcileProgress } from './reconcile-mirror.js';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressReporter {
  update(progress: ReconcileProgress): void;
  /** Ends the bar's line, so that what is printed next starts on its own line. */
  finish(): void;
}

const phaseLabels: Record<ReconcileProgress['phase'], string> = {
  agents: 'agents',
  clients: 'clients and favorites',
  // This phase goes through every mirrored client to find those Repliers no longer has, so its count is of clients
  // checked. The summary states how many were removed.
  cleanup: 'checking mirrored clients against Repliers',
};

/** Minimum time between two redraws of the bar, in milliseconds. */
const redrawMs = 100;
/** Maximum time between two plain lines of one phase, in milliseconds. */
const plainLineMs = 10_000;

function percent({ done, total }: ReconcileProgress): number {
  return total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
}

/** Renders one line of the bar, such as `clients and favorites [#####-----]  50% 1,000/2,000`. */
export function renderBar(progress: ReconcileProgress, width: number): string {
  const label = phaseLabels[progress.phase];
  const counts = `${progress.done.toLocaleString('en-US')}/${progress.total.toLocaleString('en-US')}`;
  const share = percent(progress);
  const barWidth = Math.max(10, Math.min(40, width - label.length - counts.length - 10));
  const filled = Math.round((share / 100) * barWidth);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${String(share).padStart(3)}% ${counts}`;
}

export function createProgressReporter(output: ProgressOutput, now: () => number = Date.now): ProgressReporter {
  let drawn = false;
  let lastDraw = 0;
  let phase: ReconcileProgress['phase'] | null = null;
  let lastTenth = -1;
  let lastLine = 0;

  if (output.isTTY) {
    return {
      update(progress) {
        const final = progress.total > 0 && progress.done >= progress.total;
        if (!final && progress.phase === phase && now() - lastDraw < redrawMs) return;
        if (phase !== null && progress.phase !== phase) output.write('\n');
        phase = progress.phase;
        lastDraw = now();
        drawn = true;
        // \r returns to the line start and \x1b[2K clears the line before the bar is drawn again.
        output.write(`\r\x1b[2K${renderBar(progress, output.columns ?? 80)}`);
      },
      finish() {
        if (drawn) output.write('\n');
        drawn = false;
      },
    };
  }

  return {
    update(progress) {
      const tenth = Math.floor(percent(progress) / 10);
      const newPhase = progress.phase !== phase;
      if (!newPhase && tenth === lastTenth && now() - lastLine < plainLineMs) return;
      phase = progress.phase;
      lastTenth = tenth;
      lastLine = now();
      const total = progress.total > 0 ? ` of ${progress.total}` : '';
      output.write(`${phaseLabels[progress.phase]}: ${progress.done}${total} (${percent(progress)}%)\n`);
    },
    finish() {},
  };
}
