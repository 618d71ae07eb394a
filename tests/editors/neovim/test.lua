-- Drives distsys-review through the editors/neovim module in a headless Neovim (0.7 or 0.11):
-- for each file of expect.json: diagnostics with the expected rule codes, a hover on the fixable one, its code
-- actions (fix preferred, suppress offered), the fix applied, and the finding gone while the others stay.
--
-- Environment: DSR_PLUGIN (editors/neovim), DSR_PROJECT (a scratch copy of tests/editors/project),
-- DSR_EXPECT (expect.json), DSR_RESULT (JSON written here), DISTSYS_REVIEW_BIN (the server).
-- Results go to DSR_RESULT and stdout; the exit code is 0 or the number of failed checks (capped at 100).

local uv = vim.uv or vim.loop
local results = { version = tostring(vim.version().major .. "." .. vim.version().minor .. "." .. vim.version().patch), files = {}, checks = {} }
local failures = 0

local function out(line)
  io.stdout:write(line .. "\n")
end

local function check(ok, what, detail)
  table.insert(results.checks, { ok = ok and true or false, what = what, detail = detail })
  out(string.format("  %s %s%s", ok and "ok  " or "FAIL", what, detail and (": " .. tostring(detail)) or ""))
  if not ok then
    failures = failures + 1
  end
  return ok
end

local function read_file(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("*a")
  f:close()
  return s
end

local function buf_clients(buf)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ bufnr = buf })
  elseif vim.fn.has("nvim-0.8") == 1 then
    return vim.lsp.get_active_clients({ bufnr = buf })
  end
  return vim.tbl_values(vim.lsp.buf_get_clients(buf))
end

local function ours(buf)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == "distsys-review" then
      table.insert(list, d)
    end
  end
  return list
end

local function code_of(d)
  if d.code then
    return d.code
  end
  local lsp = d.user_data and d.user_data.lsp
  return lsp and lsp.code
end

local function codes(buf)
  local set, list = {}, {}
  for _, d in ipairs(ours(buf)) do
    local c = code_of(d)
    if c and not set[c] then
      set[c] = true
      table.insert(list, c)
    end
  end
  table.sort(list)
  return list, set
end

-- The LSP diagnostic behind a vim.diagnostic entry (0.7 keeps only some fields in user_data.lsp).
local function lsp_diagnostic(d)
  local base = {
    range = {
      start = { line = d.lnum, character = d.col },
      ["end"] = { line = d.end_lnum or d.lnum, character = d.end_col or d.col },
    },
    message = d.message,
    severity = d.severity,
    source = d.source,
    code = code_of(d),
  }
  return vim.tbl_extend("force", base, (d.user_data and d.user_data.lsp) or {})
end

local function request(buf, method, params)
  local responses = vim.lsp.buf_request_sync(buf, method, params, 10000) or {}
  for _, r in pairs(responses) do
    local err = r.err or r.error
    if err then
      return nil, err.message or vim.inspect(err)
    end
    if r.result ~= nil then
      return r.result
    end
  end
  return nil, "no response"
end

local function hover_text(result)
  if not result or not result.contents then
    return ""
  end
  local c = result.contents
  if type(c) == "string" then
    return c
  end
  if c.value then
    return c.value
  end
  local parts = {}
  for _, item in ipairs(c) do
    table.insert(parts, type(item) == "string" and item or item.value or "")
  end
  return table.concat(parts, "\n")
end

local function run()
  local plugin, project = os.getenv("DSR_PLUGIN"), os.getenv("DSR_PROJECT")
  vim.o.hidden = true
  vim.opt.runtimepath:prepend(plugin)
  vim.cmd("filetype on")
  local dsr = require("distsys-review")
  local mode = os.getenv("DSR_NVIM_MODE")
  results.mode = mode ~= "" and mode or "auto"
  local lspconfig_only = results.mode == "lspconfig"
  if lspconfig_only then
    -- editors/neovim/lspconfig/distsys_review.lua alone, as nvim-lspconfig (or a config's lsp/ folder) ships it:
    -- on 'runtimepath' under lsp/, enabled by name, the command overridden as a user would.
    local rtp = os.getenv("DSR_LSPCONFIG_RTP")
    vim.opt.runtimepath:prepend(rtp)
    local standalone = dofile(rtp .. "/lsp/distsys_review.lua")
    check(
      vim.deep_equal(standalone.filetypes, dsr.filetypes) and vim.deep_equal(standalone.root_markers, dsr.root_markers),
      "the lspconfig file's filetypes and root markers are the module's",
      vim.inspect({ standalone.filetypes, standalone.root_markers })
    )
    vim.lsp.config("distsys_review", { cmd = { os.getenv("DISTSYS_REVIEW_BIN"), "lsp" } })
    vim.lsp.enable("distsys_review")
  else
    dsr.setup({ cmd = { os.getenv("DISTSYS_REVIEW_BIN"), "lsp" }, mode = results.mode })
  end

  local expect = vim.fn.json_decode(read_file(os.getenv("DSR_EXPECT")))
  local files = {}
  for name, _ in pairs(expect) do
    if name:sub(1, 1) ~= "_" then
      table.insert(files, name)
    end
  end
  table.sort(files)

  local explained = false
  for _, name in ipairs(files) do
    local want = expect[name]
    local entry = { file = name }
    results.files[name] = entry
    out(name)
    vim.cmd("edit " .. vim.fn.fnameescape(project .. "/" .. name))
    local buf = vim.api.nvim_get_current_buf()

    local attached = vim.wait(10000, function()
      return dsr.client(buf) ~= nil
    end, 20)
    if not check(attached, "server attached", vim.bo[buf].filetype) then
      goto continue
    end
    local client = dsr.client(buf)
    entry.offset_encoding = client.offset_encoding

    local function has_all()
      local _, set = codes(buf)
      for _, c in ipairs(want.codes) do
        if not set[c] then
          return false
        end
      end
      return true
    end
    local t0 = uv.hrtime()
    local got_all = vim.wait(15000, has_all, 20)
    entry.diagnostics_ms = math.floor((uv.hrtime() - t0) / 1e6)
    entry.codes = codes(buf)
    check(got_all, "diagnostics " .. table.concat(want.codes, ","), table.concat(entry.codes, ","))
    if not got_all then
      goto continue
    end

    local target
    for _, d in ipairs(ours(buf)) do
      if code_of(d) == want.fix then
        target = d
        break
      end
    end
    local params_pos = {
      textDocument = { uri = vim.uri_from_bufnr(buf) },
      position = { line = target.lnum, character = target.col },
    }
    local hover, herr = request(buf, "textDocument/hover", params_pos)
    entry.hover = hover_text(hover)
    check(entry.hover:find(want.fix, 1, true) ~= nil, "hover on " .. want.fix .. " names the rule", herr or (#entry.hover .. " chars"))

    -- Every expected finding offers a suppression; the one to fix offers a preferred fix.
    local fix_action
    entry.actions = {}
    for _, d in ipairs(ours(buf)) do
      local code = code_of(d)
      local ld = lsp_diagnostic(d)
      local actions, aerr = request(buf, "textDocument/codeAction", {
        textDocument = { uri = vim.uri_from_bufnr(buf) },
        range = ld.range,
        context = { diagnostics = { ld } },
      })
      actions = actions or {}
      local titles, suppress = {}, false
      for _, a in ipairs(actions) do
        table.insert(titles, a.title)
        if a.title:lower():find("suppress " .. code:lower(), 1, true) then
          suppress = true
        end
        -- The rule's own fix: a quickfix that is not one of the "Suppress CODE ..." actions, preferred first.
        local is_fix = a.kind == "quickfix" and not a.title:lower():match("^suppress")
        if code == want.fix and is_fix and (not fix_action or (a.isPreferred and not fix_action.isPreferred)) then
          fix_action = a
        end
      end
      entry.actions[code] = titles
      if code ~= "DSR001" and code ~= "DSR002" then
        check(suppress, "code actions for " .. code .. " offer a suppression", aerr or table.concat(titles, " | "))
      end
    end
    if not check(fix_action ~= nil, "code action fixes " .. want.fix, table.concat(entry.actions[want.fix] or {}, " | ")) then
      goto continue
    end
    if not fix_action.edit and not fix_action.command then
      local resolved, rerr = request(buf, "codeAction/resolve", fix_action)
      check(resolved ~= nil, "codeAction/resolve", rerr)
      fix_action = resolved or fix_action
    end
    local before = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
    if fix_action.edit then
      vim.lsp.util.apply_workspace_edit(fix_action.edit, client.offset_encoding)
    end
    if fix_action.command then
      local cmd = type(fix_action.command) == "table" and fix_action.command or fix_action
      request(buf, "workspace/executeCommand", { command = cmd.command, arguments = cmd.arguments })
    end
    local after = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
    check(after ~= before, "fix '" .. fix_action.title .. "' edited the buffer")

    local gone = vim.wait(10000, function()
      local _, set = codes(buf)
      return not set[want.fix]
    end, 20)
    entry.codes_after_fix = codes(buf)
    check(gone, want.fix .. " gone after the fix", table.concat(entry.codes_after_fix, ","))
    local _, set = codes(buf)
    for _, c in ipairs(want.codes) do
      if c ~= want.fix then
        check(set[c], c .. " still reported after the fix")
      end
    end

    -- The explain command and :DistsysReviewExplain come with the module's setup(), not with the lspconfig file.
    if not explained and not lspconfig_only then
      explained = true
      local page, eerr = request(buf, "workspace/executeCommand", { command = "distsys-review.explain", arguments = { want.codes[1] } })
      local text = type(page) == "string" and page or (type(page) == "table" and (page.value or page.markdown)) or ""
      entry.explain_chars = #text
      check(text:find("# " .. want.codes[1], 1, true) ~= nil, "explain " .. want.codes[1] .. " returns its rule page", eerr or (#text .. " chars"))
      -- The module's :DistsysReviewExplain opens the page in a Markdown split.
      vim.cmd("DistsysReviewExplain " .. want.codes[1])
      local shown = vim.wait(5000, function()
        for _, b in ipairs(vim.api.nvim_list_bufs()) do
          if vim.api.nvim_buf_get_name(b):find(want.codes[1] .. ".md", 1, true) and vim.bo[b].filetype == "markdown" then
            return vim.api.nvim_buf_get_lines(b, 0, 1, false)[1]:find(want.codes[1], 1, true) ~= nil
          end
        end
        return false
      end, 20)
      check(shown, ":DistsysReviewExplain " .. want.codes[1] .. " shows the page in a split")
      vim.cmd("only")
      vim.cmd("buffer " .. buf)
    end
    ::continue::
  end
end

local ok, err = pcall(run)
if not ok then
  check(false, "test script error", err)
end
local f = io.open(os.getenv("DSR_RESULT"), "w")
if f then
  f:write(vim.fn.json_encode(results))
  f:close()
end
out(string.format("nvim %s (%s): %d checks, %d failed", results.version, results.mode, #results.checks, failures))
if failures > 0 then
  vim.cmd("cquit " .. math.min(failures, 100))
else
  vim.cmd("qall!")
end
