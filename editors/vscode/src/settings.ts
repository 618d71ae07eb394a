import * as vscode from 'vscode';

export const SECTION = 'distsysReview';

/** Levels a finding severity can show as; the names are LSP's DiagnosticSeverity in lower case. */
export type DiagnosticLevel = 'error' | 'warning' | 'information' | 'hint';

/**
 * What the server receives, both as `initializationOptions` and as `settings` in
 * `workspace/didChangeConfiguration`: the same keys as `distsys-review.toml` where the meaning is the same
 * (`select`, `ignore`, `severity`), plus what only an editor has (`diagnosticSeverity`, `diagnostics.scope`,
 * `docs.baseUrl`). Client-only settings (server path, environment, trace) are left out.
 */
export interface ServerSettings {
  select: string[];
  ignore: string[];
  severity: Record<string, string>;
  diagnosticSeverity: Record<string, DiagnosticLevel>;
  diagnostics: { scope: 'openFiles' | 'workspace' };
  docs: { baseUrl?: string };
}

export function serverSettings(): ServerSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const baseUrl = cfg.get<string>('docs.baseUrl', '').trim();
  return {
    select: cfg.get<string[]>('select', []),
    ignore: cfg.get<string[]>('ignore', []),
    severity: cfg.get<Record<string, string>>('severity', {}),
    diagnosticSeverity: cfg.get<Record<string, DiagnosticLevel>>('diagnosticSeverity', {}),
    diagnostics: { scope: cfg.get<'openFiles' | 'workspace'>('diagnostics.scope', 'openFiles') },
    docs: baseUrl ? { baseUrl } : {},
  };
}

/** Settings whose change needs a new server process rather than a didChangeConfiguration. */
export function needsRestart(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration(`${SECTION}.server`);
}
