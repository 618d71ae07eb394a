---@brief
---
--- https://github.com/distsys-review/distsys-review
---
--- distsys-review finds distributed-systems defects while you type — network calls without timeouts, retries
--- without backoff, unbounded queues, distributed locks without a TTL, unsafe migrations — in Go, Rust,
--- TypeScript/JavaScript and SQL, with hovers that explain the failure mode and code actions that fix it.
---
--- Install the server with `cargo install --locked --git https://github.com/distsys-review/distsys-review dsr-cli`
--- (or `:MasonInstall distsys-review` with the registry in editors/mason/). A `distsys-review.toml` at the project
--- root configures the rules; `init_options` (or `settings`) layer `select`/`ignore` and the severity mapping over
--- it: see docs/editors.md.
---
--- This file is nvim-lspconfig's `lsp/<name>.lua` format for Neovim 0.11+: standalone, so it can live in
--- nvim-lspconfig or in your config's `lsp/` folder, then `vim.lsp.enable('distsys_review')`. It agrees with
--- editors/neovim/lua/distsys-review (checked by tests/editors/neovim/test.lua).

---@type vim.lsp.Config
return {
  cmd = { 'distsys-review', 'lsp' },
  filetypes = { 'go', 'rust', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact', 'sql' },
  root_markers = { 'distsys-review.toml', 'go.mod', 'Cargo.toml', 'package.json', '.git' },
}
