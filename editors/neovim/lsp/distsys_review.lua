-- Neovim 0.11+ native config: with this plugin on 'runtimepath', `vim.lsp.enable("distsys_review")` is enough.
-- Override with `vim.lsp.config("distsys_review", { ... })`.
return require("distsys-review").lsp_config()
