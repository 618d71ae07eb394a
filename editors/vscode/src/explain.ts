import * as vscode from 'vscode';
import { ExecuteCommandRequest, LanguageClient } from 'vscode-languageclient/node';

export const SOURCE = 'distsys-review';
export const EXPLAIN_COMMAND = 'distsys-review.explain';
export const SCHEME = 'distsys-review-rule';

/** The rule code of a diagnostic: VS Code turns a code with a codeDescription into `{ value, target }`. */
export function diagnosticCode(d: vscode.Diagnostic): string | undefined {
  const code = d.code;
  if (code === undefined || code === null) {
    return undefined;
  }
  return typeof code === 'object' ? String(code.value) : String(code);
}

/** Rule codes of our diagnostics that touch the cursor, nearest first. */
function codesUnderCursor(editor: vscode.TextEditor | undefined): string[] {
  if (!editor) {
    return [];
  }
  const pos = editor.selection.active;
  const codes: string[] = [];
  for (const d of vscode.languages.getDiagnostics(editor.document.uri)) {
    const code = diagnosticCode(d);
    if (d.source === SOURCE && code && d.range.contains(pos) && !codes.includes(code)) {
      codes.push(code);
    }
  }
  return codes;
}

/** Accepts what a server may send back for explain: a Markdown string or a MarkupContent-like object. */
export function markdownOf(result: unknown): string | undefined {
  if (typeof result === 'string') {
    return result;
  }
  if (result && typeof result === 'object') {
    const r = result as Record<string, unknown>;
    for (const key of ['value', 'markdown', 'contents']) {
      if (typeof r[key] === 'string') {
        return r[key] as string;
      }
    }
  }
  return undefined;
}

/** Read-only documents for rule pages: no "save changes?" prompt when the preview closes. */
export class RulePages implements vscode.TextDocumentContentProvider {
  private readonly pages = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  /** The last page shown, for the test state dump. */
  last: { code: string; markdown: string } | undefined;

  set(code: string, markdown: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${code}.md` });
    this.pages.set(uri.toString(), markdown);
    this.last = { code, markdown };
    this.changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.pages.get(uri.toString()) ?? '';
  }
}

export async function explainRule(
  client: LanguageClient | undefined,
  pages: RulePages,
  arg?: unknown,
): Promise<void> {
  if (!client || !client.isRunning()) {
    void vscode.window.showErrorMessage('distsys-review: the server is not running.');
    return;
  }
  let code = typeof arg === 'string' ? arg : undefined;
  if (!code) {
    const codes = codesUnderCursor(vscode.window.activeTextEditor);
    if (codes.length === 1) {
      code = codes[0];
    } else if (codes.length > 1) {
      code = await vscode.window.showQuickPick(codes, { placeHolder: 'Which rule?' });
      if (!code) {
        return;
      }
    }
  }
  if (!code) {
    code = await vscode.window.showInputBox({
      prompt: 'Rule code to explain',
      placeHolder: 'e.g. RES001',
      validateInput: (v) => (/^\s*[A-Za-z]{3}\d{3}\s*$/.test(v) ? undefined : 'A rule code like RES001'),
    });
    if (!code) {
      return;
    }
  }
  code = code.trim().toUpperCase();
  let markdown: string | undefined;
  try {
    const result = await client.sendRequest(ExecuteCommandRequest.type, {
      command: EXPLAIN_COMMAND,
      arguments: [code],
    });
    markdown = markdownOf(result);
  } catch (err) {
    void vscode.window.showErrorMessage(`distsys-review: cannot explain ${code}: ${(err as Error).message}`);
    return;
  }
  if (!markdown) {
    void vscode.window.showWarningMessage(`distsys-review: no rule ${code}.`);
    return;
  }
  const uri = pages.set(code, markdown);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
  try {
    await vscode.commands.executeCommand('markdown.showPreview', uri);
  } catch {
    // Without the built-in Markdown extension, the source is still readable.
    await vscode.window.showTextDocument(doc, { preview: true });
  }
}
