//! The database driver's sockets: the TCP_NODELAY that the vendored
//! sqlx-core sets (third_party/README.md).

use std::collections::HashSet;
use std::net::SocketAddr;

use dorsal_tests::TestApp;
use rustix::net::{getpeername, sockopt};
use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};

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
    let me = pidfd_open(getpid(), PidfdFlags::empty()).unwrap();
    let mut connections = 0;
    for entry in std::fs::read_dir("/proc/self/fd").unwrap() {
        let Ok(number) = entry.unwrap().file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // Closed since it was listed, or not a socket.
        let Ok(fd) = pidfd_getfd(&me, number, PidfdGetfdFlags::empty()) else {
            continue;
        };
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
