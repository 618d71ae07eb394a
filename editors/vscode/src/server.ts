import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { SECTION } from './settings';

export interface ResolvedServer {
  command: string;
  /** Where the choice came from, shown in the status bar tooltip and the output channel. */
  origin: 'setting' | 'bundled' | 'PATH';
}

const EXE = process.platform === 'win32' ? 'distsys-review.exe' : 'distsys-review';

/** `server/<platform>-<arch>/distsys-review` inside the extension, as the .vsix packs it. */
export function bundledServerPath(extensionPath: string): string {
  return path.join(extensionPath, 'server', `${process.platform}-${process.arch}`, EXE);
}

function expand(p: string): string {
  let out = p.trim();
  if (out === '~' || out.startsWith('~/')) {
    out = path.join(os.homedir(), out.slice(1));
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (folder) {
    out = out.replace(/\$\{workspaceFolder\}/g, folder);
  }
  return out;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * The setting wins; then the binary bundled for this platform; then `distsys-review` on PATH (resolved by the
 * OS when spawning, so a missing binary surfaces as the client's start error).
 */
export function resolveServer(extensionPath: string): ResolvedServer {
  const configured = vscode.workspace.getConfiguration(SECTION).get<string>('server.path', '');
  if (configured.trim()) {
    const command = expand(configured);
    if (!isExecutable(command)) {
      throw new Error(`distsysReview.server.path points to "${command}", which is not an executable file`);
    }
    return { command, origin: 'setting' };
  }
  const bundled = bundledServerPath(extensionPath);
  if (isExecutable(bundled)) {
    return { command: bundled, origin: 'bundled' };
  }
  return { command: EXE, origin: 'PATH' };
}
