//! Builds the guest component (the workspace's root crate) for `wasm32-wasip2` and exports its
//! path to the harness as `AWS_IAM_USERS_COMPONENT`. The test components are built by their own
//! crate (`tests/components`), never by the product's build.
//!
//! The guest is built by a nested `cargo build` ([`component_build`]) with its own target
//! directory (`<workspace>/target/guest`), so it never contends with the outer build's lock.

fn main() {
    let workspace = component_build::workspace_root();
    for watched in ["src", "wit", "Cargo.toml", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    let component = component_build::build_component(
        &workspace,
        &workspace.join("target").join("guest"),
        &["-p", "aws-iam-users"],
        "aws_iam_users.wasm",
    );
    println!(
        "cargo:rustc-env=AWS_IAM_USERS_COMPONENT={}",
        component.display()
    );
}
