//! HTTP request methods and what the protocol says of them (RFC 9110 §9): which change state on the server and
//! which a client may repeat. Protocol facts, the same for every library — the knowledge base says which calls
//! send which method, this says what the method means.

/// An HTTP request method (RFC 9110 §9.3, and PATCH from RFC 5789).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Trace,
    Connect,
}

impl Method {
    pub const ALL: [Method; 9] = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Options,
        Method::Trace,
        Method::Connect,
    ];

    /// The method as it goes on the wire, upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Connect => "CONNECT",
        }
    }

    /// The method named exactly as on the wire (`GET`, not `Get`): where code writes the token itself — a Go 1.22
    /// route pattern (`"GET /orders"`), a Next.js route module's `export function POST`.
    pub fn from_token(token: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == token)
    }

    /// The method named in any case (`post`, `Post`, `POST`): a library constant or option value.
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether the method is meant to change state on the server (POST, PUT, PATCH, DELETE): the ones a
    /// client's repeat, a dual write or an outbox is about. RFC 9110 §9.2.1 calls the others *safe*.
    pub fn changes_state(self) -> bool {
        matches!(
            self,
            Method::Post | Method::Put | Method::Patch | Method::Delete
        )
    }

    /// Whether repeating the request has the effect of sending it once (RFC 9110 §9.2.2): every method but
    /// POST, PATCH and CONNECT. A repeated POST or PATCH needs an idempotency key to be safe.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post | Method::Patch | Method::Connect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_semantics() {
        assert_eq!(Method::from_token("GET"), Some(Method::Get));
        assert_eq!(Method::from_token("Get"), None);
        assert_eq!(Method::from_name("Get"), Some(Method::Get));
        assert_eq!(Method::from_name("GETS"), None);
        let changing: Vec<&str> = Method::ALL
            .into_iter()
            .filter(|m| m.changes_state())
            .map(Method::as_str)
            .collect();
        assert_eq!(changing, ["POST", "PUT", "PATCH", "DELETE"]);
        let repeatable_writes: Vec<&str> = Method::ALL
            .into_iter()
            .filter(|m| m.changes_state() && m.is_idempotent())
            .map(Method::as_str)
            .collect();
        assert_eq!(repeatable_writes, ["PUT", "DELETE"]);
    }
}
