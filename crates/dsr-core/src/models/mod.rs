//! Models of distributed-systems constructs built from [`FileFacts`](crate::FileFacts), the tree and the
//! knowledge base, shared by the rules that read them.

pub mod locks;
pub mod remote;
