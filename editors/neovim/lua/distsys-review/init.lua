-- distsys-review for Neovim: registers `distsys-review lsp` the way each Neovim version expects.
--   0.11+     vim.lsp.config + vim.lsp.enable
--   0.8-0.10  vim.lsp.start from a FileType autocmd (one client per root, reused by vim.lsp.start)
--   0.7       vim.lsp.start_client once per root + vim.lsp.buf_attach_client
local M = {}
local uv = vim.uv or vim.loop

M.name = "distsys_review"

M.filetypes = { "go", "rust", "typescript", "typescriptreact", "javascript", "javascriptreact", "sql" }

M.root_markers = { "distsys-review.toml", "go.mod", "Cargo.toml", "package.json", ".git" }

-- What the server reads, as initializationOptions and as didChangeConfiguration settings (crates/dsr-lsp's
-- Settings::from_json): rule selectors layered over distsys-review.toml, the finding severity -> diagnostic
-- level mapping, the scope. Also accepted: docsBaseUrl = "https://..." (rule pages; `{code}` is replaced).
M.default_settings = {
  select = {},
  ignore = {},
  severity = {
    critical = "error",
    high = "warning",
    medium = "warning",
    low = "information",
    openQuestion = "hint",
  },
  diagnostics = { scope = "openFiles" },
}

local function deep_extend(base, override)
  return vim.tbl_deep_extend("force", vim.deepcopy(base), override or {})
end

local function find_root(bufname, markers)
  if bufname == "" then
    return uv.cwd()
  end
  local dir = vim.fn.fnamemodify(bufname, ":p:h")
  while dir and dir ~= "" do
    for _, marker in ipairs(markers) do
      if uv.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      break
    end
    dir = parent
  end
  -- No marker: the file's own directory, so a lone file still gets findings.
  return vim.fn.fnamemodify(bufname, ":p:h")
end

-- The server may pull `workspace/configuration` for its section: answer with the same table as the settings,
-- under either spelling of the section name.
local function configuration_handler(settings)
  return function(_, result)
    local out = {}
    for i, item in ipairs((result and result.items) or {}) do
      local section = item.section
      if section == nil or section == "distsys-review" or section == "distsysReview" or section == M.name then
        out[i] = settings
      else
        out[i] = vim.NIL
      end
    end
    return out
  end
end

--- The resolved options: the user's table over the defaults.
function M.resolve(opts)
  opts = opts or {}
  local cmd = opts.cmd
  if not cmd then
    cmd = { opts.server_path or vim.env.DISTSYS_REVIEW_BIN or "distsys-review", "lsp" }
  end
  local settings = deep_extend(M.default_settings, opts.settings)
  return {
    name = opts.name or M.name,
    cmd = cmd,
    filetypes = opts.filetypes or M.filetypes,
    root_markers = opts.root_markers or M.root_markers,
    settings = settings,
    init_options = settings,
    on_attach = opts.on_attach,
    capabilities = opts.capabilities,
    handlers = vim.tbl_extend("force", {
      ["workspace/configuration"] = configuration_handler(settings),
    }, opts.handlers or {}),
  }
end

--- An nvim-lspconfig style table (`require("lspconfig.configs").distsys_review = ...`).
function M.lspconfig(opts)
  local o = M.resolve(opts)
  return {
    default_config = {
      cmd = o.cmd,
      filetypes = o.filetypes,
      root_dir = function(fname)
        return find_root(fname, o.root_markers)
      end,
      single_file_support = true,
      init_options = o.init_options,
      settings = o.settings,
      handlers = o.handlers,
    },
    docs = {
      description = "distsys-review: distributed-systems defects (timeouts, retries, backpressure, migrations).",
    },
  }
end

--- The table for `vim.lsp.config()` (Neovim 0.11+), also what `lsp/distsys_review.lua` returns.
function M.lsp_config(opts)
  local o = M.resolve(opts)
  return {
    cmd = o.cmd,
    filetypes = o.filetypes,
    root_markers = o.root_markers,
    init_options = o.init_options,
    settings = o.settings,
    handlers = o.handlers,
    on_attach = o.on_attach,
    capabilities = o.capabilities,
  }
end

local function client_config(o, root)
  return {
    name = o.name,
    cmd = o.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    init_options = o.init_options,
    settings = o.settings,
    handlers = o.handlers,
    on_attach = o.on_attach,
    capabilities = o.capabilities or vim.lsp.protocol.make_client_capabilities(),
  }
end

local function attachable(buf)
  return vim.api.nvim_buf_is_valid(buf) and vim.bo[buf].buftype == ""
end

M._clients = {} -- root -> client id (0.7 only)

local function attach_07(o, buf)
  local root = find_root(vim.api.nvim_buf_get_name(buf), o.root_markers)
  local id = M._clients[root]
  if id and not vim.lsp.get_client_by_id(id) then
    id = nil
  end
  if not id then
    id = vim.lsp.start_client(client_config(o, root))
    if not id then
      vim.notify("distsys-review: could not start " .. table.concat(o.cmd, " "), vim.log.levels.ERROR)
      return
    end
    M._clients[root] = id
  end
  vim.lsp.buf_attach_client(buf, id)
end

local function attach_08(o, buf)
  local root = find_root(vim.api.nvim_buf_get_name(buf), o.root_markers)
  vim.lsp.start(client_config(o, root), { bufnr = buf })
end

--- Registers the server. Options: cmd (or server_path), filetypes, root_markers, settings, on_attach,
--- capabilities, handlers, name, mode ("auto" | "enable" | "start" | "start_client").
function M.setup(opts)
  local o = M.resolve(opts)
  M.options = o
  M._define_commands()
  -- "auto" picks by version; naming a mechanism is for testing an older version's path on a newer Neovim.
  local mode = (opts and opts.mode) or "auto"
  if mode == "auto" then
    mode = (vim.lsp.config and vim.lsp.enable) and "enable" or (vim.lsp.start and "start" or "start_client")
  end
  if mode == "enable" then
    vim.lsp.config(o.name, M.lsp_config(opts))
    vim.lsp.enable(o.name)
    return
  end
  local attach = mode == "start" and attach_08 or attach_07
  local group = vim.api.nvim_create_augroup("distsys-review", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = o.filetypes,
    callback = function(args)
      if attachable(args.buf) then
        attach(o, args.buf)
      end
    end,
  })
  -- Buffers already open when setup runs (a late-loaded plugin) get attached too.
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and attachable(buf) and vim.tbl_contains(o.filetypes, vim.bo[buf].filetype) then
      attach(o, buf)
    end
  end
end

--- The distsys-review client attached to a buffer, if any.
function M.client(buf)
  buf = buf or vim.api.nvim_get_current_buf()
  local name = (M.options and M.options.name) or M.name
  local clients
  if vim.lsp.get_clients then
    clients = vim.lsp.get_clients({ bufnr = buf })
  elseif vim.fn.has("nvim-0.8") == 1 then
    clients = vim.lsp.get_active_clients({ bufnr = buf })
  else
    clients = vim.tbl_values(vim.lsp.buf_get_clients(buf))
  end
  for _, c in ipairs(clients) do
    if c.name == name then
      return c
    end
  end
end

local function code_of(d)
  if d.code then
    return d.code
  end
  local lsp = d.user_data and d.user_data.lsp
  return lsp and lsp.code
end

--- Rule codes of distsys-review diagnostics under the cursor.
function M.codes_at_cursor(buf)
  buf = buf or vim.api.nvim_get_current_buf()
  local pos = vim.api.nvim_win_get_cursor(0)
  local line, col = pos[1] - 1, pos[2]
  local codes = {}
  for _, d in ipairs(vim.diagnostic.get(buf, { lnum = line })) do
    local c = code_of(d)
    local end_col = (d.end_lnum and d.end_lnum > line) and math.huge or d.end_col
    if d.source == "distsys-review" and c and col >= d.col and col <= end_col and not vim.tbl_contains(codes, c) then
      table.insert(codes, c)
    end
  end
  return codes
end

local function show_markdown(code, markdown)
  vim.cmd("botright new")
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  pcall(vim.api.nvim_buf_set_name, buf, "distsys-review://" .. code .. ".md")
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(markdown, "\n", { plain = true }))
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = "markdown"
end

local function markdown_of(result)
  if type(result) == "string" then
    return result
  end
  if type(result) == "table" then
    return result.value or result.markdown or result.contents
  end
end

--- Fetches a rule page through `workspace/executeCommand distsys-review.explain` and shows it in a split.
--- Without a code, the rule of the diagnostic under the cursor.
function M.explain(code)
  local buf = vim.api.nvim_get_current_buf()
  local client = M.client(buf)
  if not client then
    vim.notify("distsys-review: no server attached to this buffer", vim.log.levels.WARN)
    return
  end
  if not code or code == "" then
    local codes = M.codes_at_cursor(buf)
    code = codes[1]
    if not code then
      code = vim.fn.input("Rule code: ")
    end
  end
  if not code or code == "" then
    return
  end
  code = code:upper()
  local params = { command = "distsys-review.explain", arguments = { code } }
  local request = vim.fn.has("nvim-0.11") == 1 and function(...)
    return client:request(...)
  end or client.request
  request("workspace/executeCommand", params, function(err, result)
    if err then
      vim.notify("distsys-review: " .. (err.message or tostring(err)), vim.log.levels.ERROR)
      return
    end
    local md = markdown_of(result)
    if not md then
      vim.notify("distsys-review: no rule " .. code, vim.log.levels.WARN)
      return
    end
    show_markdown(code, md)
  end, buf)
end

function M._define_commands()
  vim.api.nvim_create_user_command("DistsysReviewExplain", function(args)
    M.explain(args.args)
  end, { nargs = "?", desc = "distsys-review: explain a rule (default: the diagnostic under the cursor)" })
end

return M
