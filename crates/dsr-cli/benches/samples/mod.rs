//! The generated 5,000-line files both benchmarks edit: realistic handlers, repeated.

pub fn rust_file(lines: usize) -> String {
    let mut out = vec![
        "use std::time::Duration;".to_string(),
        "use tokio::sync::mpsc;".into(),
        String::new(),
    ];
    let mut i = 0;
    while out.len() < lines {
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
    out.truncate(lines - 1);
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
