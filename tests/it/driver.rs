//! The database driver's sockets: the TCP_NODELAY that the vendored
//! sqlx-core sets (third_party/README.md).

use std::any::Any;
use std::collections::HashSet;
use std::io::ErrorKind;
use std::net::SocketAddr;

use dorsal_tests::TestApp;
use rustix::io::Errno;
use rustix::net::{getpeername, sockopt};
use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};
use sqlx_core::net::{Socket, WithSocket, connect_tcp};

/// What the driver hands its protocol code: the socket's type, and whether
/// it sends small writes at once.
struct Inspect;

impl WithSocket for Inspect {
    type Output = Option<bool>;

    async fn with_socket<S: Socket>(self, socket: S) -> Option<bool> {
        let socket: &dyn Any = &socket;
        let stream = socket.downcast_ref::<tokio::net::TcpStream>()?;
        stream.nodelay().ok()
    }
}

/// Every TCP connection the driver opens — PostgreSQL's included — goes
/// through `connect_tcp`; this asks the socket it made. No server needed:
/// a listener on loopback accepts the connection.
#[tokio::test]
async fn the_driver_connects_with_tcp_nodelay() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accept = tokio::spawn(async move { listener.accept().await.map(|_| ()) });
    let nodelay = connect_tcp("127.0.0.1", port, Inspect).await.unwrap();
    accept.await.unwrap().unwrap();
    assert_eq!(
        nodelay,
        Some(true),
        "the driver's TCP socket (None: not a tokio TcpStream) must set TCP_NODELAY"
    );
}

/// The app's own open connections to PostgreSQL, found among this
/// process's descriptors. pidfd_getfd on oneself is refused by some
/// sandboxes' seccomp profiles (Docker's, without CAP_SYS_PTRACE); there
/// the test above is the check and this one says it could not look.
#[tokio::test]
async fn postgres_connections_send_small_writes_at_once() {
    let app = TestApp::spawn().await;
    if !app.database.is_postgres() {
        println!("skipped: TCP_NODELAY concerns PostgreSQL connections only");
        return;
    }
    // The pool keeps this connection open after the query.
    assert_eq!(app.scalar::<i32>("SELECT 1").await, 1);

    let url = reqwest::Url::parse(&app.database.url).unwrap();
    let host = url.host_str().unwrap();
    let port = url.port().unwrap_or(5432);
    let server: HashSet<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .unwrap()
        .collect();

    // The socket is sqlx's, out of reach through the pool: take a duplicate
    // of each of this process's descriptors (pidfd_getfd, allowed on
    // oneself) and ask those connected to the server for the option.
    let me = match pidfd_open(getpid(), PidfdFlags::empty()) {
        Ok(me) => me,
        Err(e) if refused(e) => {
            println!("skipped: this sandbox refuses pidfd_open ({e})");
            return;
        }
        Err(e) => panic!("pidfd_open: {e}"),
    };
    let mut connections = 0;
    for entry in std::fs::read_dir("/proc/self/fd").unwrap() {
        let Ok(number) = entry.unwrap().file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let fd = match pidfd_getfd(&me, number, PidfdGetfdFlags::empty()) {
            Ok(fd) => fd,
            Err(e) if refused(e) => {
                println!("skipped: this sandbox refuses pidfd_getfd ({e})");
                return;
            }
            // Closed since it was listed.
            Err(_) => continue,
        };
        // Not a socket, or not connected.
        let Ok(Some(peer)) = getpeername(&fd) else {
            continue;
        };
        let Ok(peer) = SocketAddr::try_from(peer) else {
            continue;
        };
        if !server.contains(&peer) {
            continue;
        }
        connections += 1;
        assert!(
            sockopt::tcp_nodelay(&fd).unwrap(),
            "a connection to PostgreSQL at {peer} without TCP_NODELAY (fd {number})"
        );
    }
    assert!(connections > 0, "no TCP connection to {host}:{port} found");
}

/// A system call the sandbox forbids (seccomp) or the kernel lacks.
fn refused(e: Errno) -> bool {
    matches!(
        std::io::Error::from(e).kind(),
        ErrorKind::PermissionDenied | ErrorKind::Unsupported
    ) || e == Errno::NOSYS
}
