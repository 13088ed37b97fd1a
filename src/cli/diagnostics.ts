import type { Diagnostic } from '../journal/events';

/** `FILE:LINE: message` (warnings marked), the form editors and CI annotate. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
}
