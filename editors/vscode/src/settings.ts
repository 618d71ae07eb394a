import * as vscode from 'vscode';

export const SECTION = 'distsysReview';

/** Levels a finding severity can show as; the names are LSP's DiagnosticSeverity in lower case. */
export type DiagnosticLevel = 'error' | 'warning' | 'information' | 'hint';

/**
 * What the server receives, both as `initializationOptions` and as `settings` in
 * `workspace/didChangeConfiguration` (the server's `Settings::from_json`, crates/dsr-lsp/src/settings.rs):
 * rule selectors layered over distsys-review.toml, the severity -> diagnostic level mapping, the scope, and
 * the rule-page URL. Client-only settings (server path, environment, trace) are left out.
 */
export interface ServerSettings {
  select: string[];
  ignore: string[];
  severity: Record<string, DiagnosticLevel>;
  diagnostics: { scope: 'openFiles' | 'workspace' };
  docsBaseUrl?: string;
}

export function serverSettings(): ServerSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const settings: ServerSettings = {
    select: cfg.get<string[]>('select', []),
    ignore: cfg.get<string[]>('ignore', []),
    severity: cfg.get<Record<string, DiagnosticLevel>>('severity', {}),
    diagnostics: { scope: cfg.get<'openFiles' | 'workspace'>('diagnostics.scope', 'openFiles') },
  };
  // Empty means the server's default; an empty string would be rejected as a URL.
  const baseUrl = cfg.get<string>('docs.baseUrl', '').trim();
  if (baseUrl) {
    settings.docsBaseUrl = baseUrl;
  }
  return settings;
}

/** Settings whose change needs a new server process rather than a didChangeConfiguration. */
export function needsRestart(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration(`${SECTION}.server`);
}
