//! The generated 5,000-line files both benchmarks edit: realistic handlers, repeated.

pub fn rust_file(lines: usize) -> String {
    let mut out = vec![
        "use std::time::Duration;".to_string(),
        "use tokio::sync::mpsc;".into(),
        String::new(),
    ];
    let mut i = 0;
    // Whole handlers only (12 lines each), then blank lines: a handler cut short would leave a syntax error at
    // the end of the file, which error recovery makes part of every slice.
    while out.len() + 12 < lines {
        out.extend([
            format!("/// Handler {i}, with a 😀 in its doc."),
            format!("pub async fn handler_{i}(client: &reqwest::Client, url: &str) -> Result<String, Error> {{"),
            "    let (tx, rx) = mpsc::channel::<u64>(16);".into(),
            "    let resp = client.get(url).timeout(Duration::from_secs(5)).send().await?;".into(),
            "    let body = resp.text().await?;".into(),
            "    for line in body.lines() {".into(),
            format!("        if line.len() > {i} {{ tx.send(line.len() as u64).await.ok(); }}"),
            "    }".into(),
            "    drop(rx);".into(),
            "    Ok(body)".into(),
            "}".into(),
            String::new(),
        ]);
        i += 1;
    }
    // One finding, so that diagnostics are not trivially empty.
    out.resize(lines - 1, String::new());
    out.push("fn queue() { let (a, b) = mpsc::unbounded_channel::<u8>(); }".into());
    out.join("\n") + "\n"
}

pub fn go_file(lines: usize) -> String {
    let mut out: Vec<String> = [
        "package main",
        "",
        "import (",
        "\t\"context\"",
        "\t\"net/http\"",
        "\t\"time\"",
        ")",
        "",
    ]
    .map(String::from)
    .to_vec();
    let mut i = 0;
    while out.len() < lines {
        out.extend([
            format!("// Handler{i} fetches a thing. 😀"),
            format!("func Handler{i}(ctx context.Context, url string) (*http.Response, error) {{"),
            "\tclient := &http.Client{Timeout: 5 * time.Second}".into(),
            "\treq, err := http.NewRequestWithContext(ctx, \"GET\", url, nil)".into(),
            "\tif err != nil {".into(),
            "\t\treturn nil, err".into(),
            "\t}".into(),
            format!("\tfor i := 0; i < {i}; i++ {{"),
            "\t\t_ = i".into(),
            "\t}".into(),
            "\treturn client.Do(req)".into(),
            "}".into(),
            String::new(),
        ]);
        i += 1;
    }
    out.truncate(lines);
    out.join("\n") + "\n"
}

pub fn ts_file(lines: usize) -> String {
    let mut out = vec!["import axios from 'axios';".to_string(), String::new()];
    let mut i = 0;
    while out.len() < lines {
        out.extend([
            format!("// handler{i} fetches a thing. 😀"),
            format!("export async function handler{i}(url: string): Promise<string> {{"),
            "  const controller = new AbortController();".into(),
            "  const timer = setTimeout(() => controller.abort(), 5000);".into(),
            "  try {".into(),
            "    const res = await fetch(url, { signal: controller.signal });".into(),
            "    const items: number[] = [];".into(),
            format!("    for (let i = 0; i < {i}; i++) {{ items.push(i); }}"),
            "    return await res.text();".into(),
            "  } finally {".into(),
            "    clearTimeout(timer);".into(),
            "  }".into(),
            "}".into(),
            String::new(),
        ]);
        i += 1;
    }
    out.truncate(lines);
    out.join("\n") + "\n"
}

/// A service-shaped Go file: one `Server` type whose methods share helpers and fields, and a `routes` method
/// that registers every handler. An edit in a handler re-analyses it with the helpers it calls, the type it
/// mentions, and `routes`, which refers to it.
pub fn go_service_file(lines: usize) -> String {
    let mut out: Vec<String> = [
        "package orders",
        "",
        "import (",
        "\t\"database/sql\"",
        "\t\"encoding/json\"",
        "\t\"net/http\"",
        ")",
        "",
        "type Server struct {",
        "\tdb  *sql.DB",
        "\tmux *http.ServeMux",
        "}",
        "",
        "func (s *Server) fail(w http.ResponseWriter, err error) {",
        "\thttp.Error(w, err.Error(), http.StatusInternalServerError)",
        "}",
        "",
        "func (s *Server) writeJSON(w http.ResponseWriter, v any) {",
        "\tw.Header().Set(\"Content-Type\", \"application/json\")",
        "\t_ = json.NewEncoder(w).Encode(v)",
        "}",
        "",
    ]
    .map(String::from)
    .to_vec();
    let handlers = lines.saturating_sub(out.len()) / 14;
    for i in 0..handlers {
        out.extend([
            format!("// handleOrder{i} serves /orders/{i}. 😀"),
            format!("func (s *Server) handleOrder{i}(w http.ResponseWriter, r *http.Request) {{"),
            "\tctx := r.Context()".into(),
            "\tid := r.URL.Query().Get(\"id\")".into(),
            format!("\trow := s.db.QueryRowContext(ctx, \"SELECT total FROM orders_{i} WHERE id = $1\", id)"),
            "\tvar total int".into(),
            "\tif err := row.Scan(&total); err != nil {".into(),
            "\t\ts.fail(w, err)".into(),
            "\t\treturn".into(),
            "\t}".into(),
            "\ts.writeJSON(w, total)".into(),
            "}".into(),
            String::new(),
        ]);
    }
    out.push("func (s *Server) routes() {".into());
    for i in 0..handlers {
        out.push(format!(
            "\ts.mux.HandleFunc(\"/orders/{i}\", s.handleOrder{i})"
        ));
    }
    out.push("}".into());
    out.join("\n") + "\n"
}
