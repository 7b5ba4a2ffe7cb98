// A build script, so that cargo hakari can unify build dependencies too.
fn main() {}
