import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { explainRule, RulePages, SCHEME } from './explain';
import { resolveServer, ResolvedServer } from './server';
import { needsRestart, SECTION, serverSettings } from './settings';
import { registerTestHooks } from './testHooks';

const LANGUAGES = ['go', 'rust', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact', 'sql'];

let client: LanguageClient | undefined;
let server: ResolvedServer | undefined;
let output: vscode.OutputChannel;
let status: vscode.StatusBarItem;
let lastError: string | undefined;

type Shown = 'starting' | 'running' | 'stopped' | 'failed';

function showState(state: Shown): void {
  const icon = { starting: '$(loading~spin)', running: '$(check)', stopped: '$(circle-slash)', failed: '$(error)' }[
    state
  ];
  status.text = `${icon} distsys-review`;
  const info = client?.initializeResult?.serverInfo;
  const lines = [
    `distsys-review: ${state}`,
    info ? `${info.name} ${info.version ?? ''}`.trim() : undefined,
    server ? `server: ${server.command} (${server.origin})` : undefined,
    state === 'failed' && lastError ? `error: ${lastError}` : undefined,
    'Click to show the output',
  ];
  status.tooltip = lines.filter(Boolean).join('\n');
  status.backgroundColor =
    state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  status.show();
}

function stateName(): string {
  if (!client) {
    return lastError ? 'failed' : 'stopped';
  }
  return State[client.state].toLowerCase();
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  showState('starting');
  lastError = undefined;
  try {
    server = resolveServer(context.extensionPath);
  } catch (err) {
    lastError = (err as Error).message;
    output.appendLine(lastError);
    showState('failed');
    void vscode.window.showErrorMessage(`distsys-review: ${lastError}`);
    return;
  }
  output.appendLine(`Starting ${server.command} lsp (${server.origin})`);
  const extraEnv = vscode.workspace.getConfiguration(SECTION).get<Record<string, string>>('server.extraEnv', {});
  const run = { command: server.command, args: ['lsp'], options: { env: { ...process.env, ...extraEnv } } };
  const serverOptions: ServerOptions = { run, debug: run };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
    initializationOptions: serverSettings(),
    outputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    // No static file watcher: the server registers its own (distsys-review.toml, closed source files) through
    // client/registerCapability, and a second one here would deliver every change twice.
    middleware: {
      workspace: {
        // A server that pulls `workspace/configuration` gets the same shape as initializationOptions.
        configuration: (params, token, next) => {
          const wanted = params.items.map((item) =>
            item.section === undefined || item.section === SECTION || item.section === 'distsys-review'
              ? serverSettings()
              : undefined,
          );
          if (wanted.every((w) => w !== undefined)) {
            return wanted;
          }
          return next(params, token);
        },
      },
    },
  };
  // The id makes vscode-languageclient read `distsysReview.trace.server` for message tracing.
  const c = new LanguageClient(SECTION, 'distsys-review', serverOptions, clientOptions);
  client = c;
  c.onDidChangeState((e) => {
    if (client !== c) {
      return;
    }
    showState(e.newState === State.Running ? 'running' : e.newState === State.Starting ? 'starting' : 'stopped');
  });
  try {
    await c.start();
    showState('running');
  } catch (err) {
    lastError = (err as Error).message;
    output.appendLine(`The server did not start: ${lastError}`);
    if (server.origin === 'PATH') {
      output.appendLine(
        'No distsys-review on PATH and none bundled: install it (cargo install) or set distsysReview.server.path.',
      );
    }
    showState('failed');
    void vscode.window
      .showErrorMessage(`distsys-review: the server did not start: ${lastError}`, 'Show output')
      .then((pick) => pick && output.show(true));
  }
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) {
    try {
      await c.stop(5000);
    } catch (err) {
      output.appendLine(`Stopping the server: ${(err as Error).message}`);
    }
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('distsys-review');
  status = vscode.window.createStatusBarItem('distsysReview.status', vscode.StatusBarAlignment.Right, 100);
  status.name = 'distsys-review';
  status.command = 'distsysReview.showOutput';
  const pages = new RulePages();
  context.subscriptions.push(
    output,
    status,
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, pages),
    vscode.commands.registerCommand('distsysReview.explainRule', (code?: unknown) => explainRule(client, pages, code)),
    vscode.commands.registerCommand('distsysReview.restartServer', async () => {
      output.appendLine('Restarting the server');
      await stop();
      await start(context);
    }),
    vscode.commands.registerCommand('distsysReview.showOutput', () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration(SECTION)) {
        return;
      }
      if (needsRestart(e)) {
        await stop();
        await start(context);
      } else if (client?.isRunning()) {
        await client.sendNotification(DidChangeConfigurationNotification.type, { settings: serverSettings() });
      }
    }),
    { dispose: () => void stop() },
  );
  registerTestHooks(
    context,
    () => ({
      serverState: stateName(),
      serverInfo: client?.initializeResult?.serverInfo ?? null,
      server: server ?? null,
    }),
    pages,
  );
  await start(context);
}

export function deactivate(): Promise<void> {
  return stop();
}
