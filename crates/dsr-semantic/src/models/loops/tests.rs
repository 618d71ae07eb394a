use dsr_syntax::{Document, Language};

use super::*;
use dsr_core::KnowledgeBase;

/// One line per loop: `size spawns=[…] limits=[…] retry pagination`.
fn describe(language: Language, source: &str) -> Vec<String> {
    let document = Document::new(language, source, 0).expect("grammar loads");
    let facts = FileFacts::compute(language, document.tree(), source);
    let kb = KnowledgeBase::builtin();
    let effects = RemoteCalls::compute(&facts, source, kb);
    let retry = Retries::compute_with(&facts, source, kb, &effects);
    let loops = Loops::compute(&facts, source, &effects, &retry);
    loops
        .iter()
        .map(|l| {
            let size = match &l.size {
                Size::Bounded(b) => format!("bounded:{b:?}"),
                Size::Chunked => "chunked".to_string(),
                Size::Unknown(o) => format!("unknown:{o:?}"),
                Size::NotACollection(s) => format!("none:{s:?}"),
            };
            let spawns: Vec<String> = l.spawns.iter().map(|s| format!("{:?}", s.kind)).collect();
            let limits: Vec<String> = l.limits.iter().map(|s| format!("{:?}", s.kind)).collect();
            let mut line = format!(
                "{} {size} spawns=[{}] limits=[{}]",
                l.method.as_deref().unwrap_or("loop"),
                spawns.join(","),
                limits.join(",")
            );
            if l.retry {
                line.push_str(" retry");
            }
            if l.pagination {
                line.push_str(" pagination");
            }
            line
        })
        .collect()
}

#[test]
fn go_goroutines_per_element_and_their_bounds() {
    let source = r#"package p
import (
	"context"
	"net/http"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)
func fanout(ctx context.Context, urls []string) {
	for _, u := range urls {
		go http.Get(u)
	}
	sem := semaphore.NewWeighted(8)
	for _, u := range urls {
		if err := sem.Acquire(ctx, 1); err != nil {
			return
		}
		go func(u string) { defer sem.Release(1); http.Get(u) }(u)
	}
	tokens := make(chan struct{}, 8)
	for _, u := range urls {
		tokens <- struct{}{}
		go func(u string) { defer func() { <-tokens }(); http.Get(u) }(u)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, u := range urls {
		g.Go(func() error { _, err := http.Get(u); return err })
	}
	for _, u := range []string{"a", "b"} {
		go http.Get(u)
	}
	for i := 0; i < 4; i++ {
		go worker()
	}
}
"#;
    assert_eq!(
        describe(Language::Go, source),
        [
            "loop unknown:Parameter(\"urls\") spawns=[Goroutine] limits=[]",
            "loop unknown:Parameter(\"urls\") spawns=[Goroutine] limits=[Semaphore]",
            "loop unknown:Parameter(\"urls\") spawns=[Goroutine] limits=[ChannelSemaphore]",
            "loop unknown:Parameter(\"urls\") spawns=[GroupGo(\"g\")] limits=[GroupLimit]",
            "loop bounded:Literal spawns=[Goroutine] limits=[]",
            "loop bounded:ConstantRange spawns=[Goroutine] limits=[]",
        ]
    );
}

#[test]
fn go_sizes_rows_channels_and_receivers() {
    let source = r#"package p
import "database/sql"
type S struct{ db *sql.DB; peers []string }
func (s *S) f(r *http.Request, jobs chan int) {
	rows, _ := s.db.Query("SELECT id FROM t")
	for rows.Next() {
	}
	for j := range jobs {
		_ = j
	}
	for _, p := range s.peers {
		_ = p
	}
	for _, v := range r.Form["id"] {
		_ = v
	}
	for i := 0; i < len(s.peers); i += 100 {
	}
}
"#;
    assert_eq!(
        describe(Language::Go, source),
        [
            "loop unknown:QueryResult spawns=[] limits=[]",
            "loop none:Stream spawns=[] limits=[]",
            "loop unknown:Field(\"s.peers\") spawns=[] limits=[]",
            "loop unknown:RequestField(\"r.Form[\\\"id\\\"]\") spawns=[] limits=[]",
            "loop chunked spawns=[] limits=[]",
        ]
    );
}

#[test]
fn go_retry_and_pagination_loops() {
    let source = r#"package p
import "net/http"
func f(c *http.Client, req *http.Request) {
	for attempt := 0; attempt < 3; attempt++ {
		resp, err := c.Do(req)
		if err != nil {
			continue
		}
		_ = resp
		return
	}
	token := ""
	for {
		page, err := list(token)
		if err != nil {
			return
		}
		token = page.Next
		if token == "" {
			break
		}
	}
}
func list(token string) (*Page, error) {
	_, err := http.Get("http://x/?t=" + token)
	return nil, err
}
"#;
    assert_eq!(
        describe(Language::Go, source),
        [
            "loop bounded:ConstantRange spawns=[] limits=[] retry",
            "loop none:Condition spawns=[] limits=[] pagination",
        ]
    );
}

#[test]
fn rust_tasks_streams_and_chunks() {
    let source = r#"use futures::stream::{self, StreamExt};
async fn f(ids: Vec<u64>, client: reqwest::Client, sem: std::sync::Arc<tokio::sync::Semaphore>) {
    for id in ids.iter() {
        tokio::spawn(async move { fetch(id).await });
    }
    for id in ids.iter() {
        let permit = sem.clone().acquire_owned().await;
        tokio::spawn(async move { let _p = permit; fetch(id).await });
    }
    futures::future::join_all(ids.iter().map(|id| fetch(*id))).await;
    stream::iter(ids.clone()).map(|id| fetch(id)).buffer_unordered(8).collect::<Vec<_>>().await;
    for chunk in ids.chunks(100) {
        futures::future::join_all(chunk.iter().map(|id| fetch(*id))).await;
    }
    for id in ids.iter().take(3) {
        tokio::spawn(async move { fetch(id).await });
    }
    let x = Some(1).map(|v| v + 1);
}
"#;
    assert_eq!(
        describe(Language::Rust, source),
        [
            "loop unknown:Parameter(\"ids\") spawns=[Task(\"tokio::spawn\")] limits=[]",
            "loop unknown:Parameter(\"ids\") spawns=[Task(\"tokio::spawn\")] limits=[Semaphore]",
            "map unknown:Parameter(\"ids\") spawns=[JoinAll(\"futures::future::join_all\")] limits=[]",
            "map unknown:Parameter(\"ids\") spawns=[JoinAll(\"buffer_unordered\")] limits=[StreamLimit]",
            "loop chunked spawns=[] limits=[]",
            "map bounded:Batch spawns=[JoinAll(\"futures::future::join_all\")] limits=[]",
            "loop bounded:Take spawns=[Task(\"tokio::spawn\")] limits=[]",
        ]
    );
}

#[test]
fn typescript_promises_per_element() {
    let source = r#"import pLimit from "p-limit";
import chunk from "lodash/chunk";
export async function f(ids: string[], req: any) {
  await Promise.all(ids.map(async (id) => { await fetch(`/x/${id}`); }));
  const limit = pLimit(5);
  await Promise.all(ids.map((id) => limit(() => fetch(`/x/${id}`))));
  for (const id of req.body.ids) {
    fetch(`/x/${id}`);
  }
  for (const id of ids) {
    await fetch(`/x/${id}`);
  }
  ids.forEach(async (id) => { await fetch(`/x/${id}`); });
  for (const batch of chunk(ids, 50)) {
    await Promise.all(batch.map((id) => fetch(`/x/${id}`)));
  }
  for (const id of ["a", "b"]) {
    fetch(`/x/${id}`);
  }
}
"#;
    assert_eq!(
        describe(Language::TypeScript, source),
        [
            "map unknown:Parameter(\"ids\") spawns=[PromiseAll(\"Promise.all\")] limits=[]",
            "map unknown:Parameter(\"ids\") spawns=[PromiseAll(\"Promise.all\")] limits=[PLimit]",
            "loop unknown:RequestField(\"req.body.ids\") spawns=[UnawaitedPromise] limits=[]",
            "loop unknown:Parameter(\"ids\") spawns=[] limits=[]",
            "forEach unknown:Parameter(\"ids\") spawns=[UnawaitedPromise] limits=[]",
            "loop chunked spawns=[] limits=[]",
            "map bounded:Batch spawns=[PromiseAll(\"Promise.all\")] limits=[]",
            "loop bounded:Literal spawns=[UnawaitedPromise] limits=[]",
        ]
    );
}

#[test]
fn storing_results_by_element_is_not_pagination() {
    let source = r#"package p
import (
	"context"
	"database/sql"
)
func prices(ctx context.Context, db *sql.DB, ids []int64) map[int64]int64 {
	out := map[int64]int64{}
	for _, id := range ids {
		var cents int64
		db.QueryRowContext(ctx, "SELECT cents FROM prices WHERE id = $1", id).Scan(&cents)
		out[id] = cents
	}
	for concurrency := range 4 {
		_ = concurrency
	}
	return out
}
"#;
    assert_eq!(
        describe(Language::Go, source),
        [
            "loop unknown:Parameter(\"ids\") spawns=[] limits=[]",
            "loop bounded:ConstantRange spawns=[] limits=[]",
        ]
    );
}
