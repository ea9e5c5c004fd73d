//! Operator commands: pile credentials, listing, user accounts.

use crate::cli::{Cli, PileCommand, PileRef, UserCommand};
use anyhow::Context;
use domain::PileId;
use store::{users::Role, Store};

async fn resolve(store: &Store, r: &PileRef) -> anyhow::Result<PileId> {
    if let Ok(n) = r.pile.parse::<i64>() {
        store
            .pile(PileId(n))
            .await
            .with_context(|| format!("pile {n}"))?;
        return Ok(PileId(n));
    }
    store
        .pile_id_by_code(&r.pile)
        .await
        .with_context(|| format!("pile {:?}", r.pile))
}

/// `chargebay pile ...`
pub async fn pile(cli: &Cli, cmd: PileCommand) -> anyhow::Result<()> {
    let store = Store::connect(&cli.database_url).await?;
    match cmd {
        PileCommand::List => {
            let now = store::now();
            println!(
                "{:>6}  {:<14} {:<10} {:>6}  {:<22} site",
                "id", "code", "connector", "kW", "state"
            );
            for p in store.list_piles().await? {
                println!(
                    "{:>6}  {:<14} {:<10} {:>6}  {:<22} {}",
                    p.id.0,
                    p.code,
                    p.connector.as_str(),
                    p.max_kw,
                    p.availability(now).as_str(),
                    p.site_name
                );
            }
        }
        PileCommand::IssueCredential(r) => {
            let id = resolve(&store, &r).await?;
            let c = store.issue_credential(id).await?;
            let port = cli.coap_addr.port();
            println!("pile:        {}", c.pile.0);
            println!("key:         {}", c.secret);
            println!("fingerprint: {}", c.fingerprint);
            println!(
                "The key is shown only now. A running bridge takes it up within 4 s (until then \
                 it answers 4.01). Try it:"
            );
            println!(
                "  coap-client-notls -m post -t json -e '{{\"seq\":1,\"bay\":\"free\",\"pile\":\"available\"}}' 'coap://127.0.0.1:{port}/r/{}?k={}'",
                c.pile.0, c.secret
            );
        }
        PileCommand::RevokeCredential(r) => {
            let id = resolve(&store, &r).await?;
            store.revoke_credential(id).await?;
            println!("credential of pile {} revoked", id.0);
        }
    }
    store.close().await;
    Ok(())
}

/// `chargebay user ...`
pub async fn user(cli: &Cli, cmd: UserCommand) -> anyhow::Result<()> {
    let store = Store::connect(&cli.database_url).await?;
    match cmd {
        UserCommand::Create { email, name, admin } => {
            let (password, generated) = match std::env::var("CHARGEBAY_PASSWORD") {
                Ok(p) if !p.is_empty() => (p, false),
                _ => (crate::demo::random_password(), true),
            };
            let role = if admin { Role::Admin } else { Role::Driver };
            let display = if name.is_empty() { email.clone() } else { name };
            let id = store.create_user(&email, &display, &password, role).await?;
            println!("user {} created ({role:?})", id.0);
            if generated {
                println!("password: {password}");
            }
        }
    }
    store.close().await;
    Ok(())
}
