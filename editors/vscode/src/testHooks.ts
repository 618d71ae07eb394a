import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { diagnosticCode, RulePages, SOURCE } from './explain';

/**
 * A stable assertion channel for end-to-end tests, beside the UI: when DISTSYS_REVIEW_TEST_OUT names a file,
 * the extension writes what VS Code itself knows (diagnostics, hover and code-action provider results at each
 * of our diagnostics) there as JSON, on every diagnostics change and when the test command runs.
 * Nothing is registered without the variable.
 */
export const TEST_OUT_ENV = 'DISTSYS_REVIEW_TEST_OUT';

type Pos = { line: number; character: number };
const pos = (p: vscode.Position): Pos => ({ line: p.line, character: p.character });
const range = (r: vscode.Range) => ({ start: pos(r.start), end: pos(r.end) });

function hoverText(h: vscode.Hover): string[] {
  return h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : String(c)));
}

export function registerTestHooks(
  context: vscode.ExtensionContext,
  state: () => { serverState: string; serverInfo: unknown; server: unknown },
  pages: RulePages,
): void {
  const out = process.env[TEST_OUT_ENV];
  if (!out) {
    return;
  }
  void vscode.commands.executeCommand('setContext', 'distsysReview.testMode', true);
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();

  const dump = async (reason: string) => {
    const files = [];
    for (const [uri, all] of vscode.languages.getDiagnostics()) {
      const ours = all.filter((d) => d.source === SOURCE);
      if (ours.length === 0 && uri.scheme !== 'file') {
        continue;
      }
      // Hover and code-action providers would open a closed file (workspace scope) and so change what the
      // server reports: ask them only about documents that are open already.
      const isOpen = vscode.workspace.textDocuments.some((t) => t.uri.toString() === uri.toString());
      const diagnostics = [];
      for (const d of ours) {
        const hovers = isOpen
          ? ((await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, d.range.start)) ??
            [])
          : [];
        const actions = isOpen
          ? ((await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
              'vscode.executeCodeActionProvider',
              uri,
              d.range,
            )) ?? [])
          : [];
        diagnostics.push({
          code: diagnosticCode(d),
          codeHref: typeof d.code === 'object' ? d.code.target.toString() : undefined,
          source: d.source,
          severity: vscode.DiagnosticSeverity[d.severity],
          message: d.message,
          range: range(d.range),
          hover: hovers.flatMap(hoverText),
          codeActions: actions.map((a) =>
            'kind' in a || 'edit' in a || 'isPreferred' in a
              ? {
                  title: a.title,
                  kind: (a as vscode.CodeAction).kind?.value,
                  isPreferred: (a as vscode.CodeAction).isPreferred ?? false,
                }
              : { title: a.title, command: (a as vscode.Command).command },
          ),
        });
      }
      if (diagnostics.length > 0 || isOpen) {
        files.push({ uri: uri.toString(), open: isOpen, diagnostics });
      }
    }
    const openDocuments = vscode.workspace.textDocuments
      .filter((t) => t.uri.scheme === 'file')
      .map((t) => ({ uri: t.uri.toString(), version: t.version, languageId: t.languageId, isDirty: t.isDirty }));
    const body = {
      seq: ++seq,
      reason,
      time: new Date().toISOString(),
      ...state(),
      lastExplain: pages.last ? { code: pages.last.code, markdown: pages.last.markdown } : null,
      openDocuments,
      files,
      // What VS Code loaded from the installed extension's manifest for other extensions to read (the TOML
      // schema association that Even Better TOML picks up).
      contributes: { tomlValidation: context.extension.packageJSON?.contributes?.tomlValidation ?? null },
    };
    const tmp = `${out}.${process.pid}.tmp`;
    await fs.promises.mkdir(path.dirname(out), { recursive: true });
    await fs.promises.writeFile(tmp, JSON.stringify(body, null, 2));
    await fs.promises.rename(tmp, out);
  };
  // Dumps run one at a time so the file always holds a whole, latest state.
  const queue = (reason: string) => {
    running = running.then(() => dump(reason)).catch((err) => console.error('distsys-review test dump', err));
    return running;
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('distsysReview.test.dumpState', () => queue('command')),
    pages.onDidChange(() => void queue('explain')),
    vscode.languages.onDidChangeDiagnostics(() => {
      clearTimeout(timer);
      timer = setTimeout(() => void queue('diagnostics'), 150);
    }),
    { dispose: () => clearTimeout(timer) },
  );
  void queue('activate');
}
