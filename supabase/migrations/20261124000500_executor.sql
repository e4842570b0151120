-- Executor service: strategies and their lifecycle, bot orders, fills, positions,
-- encrypted broker credentials, the notification outbox, the built-in paper exchange's
-- ledger, and the per-strategy performance summary (a materialized view).
--
-- Users reach their own rows through RLS (policies on (select auth.uid())); the
-- executor_service role does cross-user work (bot runner, outbox relay, reconciliation)
-- through policies written TO executor_service.

-- ---------------------------------------------------------------------------
-- Strategies
-- ---------------------------------------------------------------------------
create table public.trading_strategies (
    id            uuid primary key default gen_random_uuid(),
    user_id       uuid not null references auth.users (id) on delete cascade,
    name          text not null check (length(name) between 1 and 100),
    strategy_type text not null check (strategy_type in
                      ('dca', 'spot_grid', 'rsi_reversion', 'sma_crossover', 'buy_and_hold')),
    base_symbol   text not null check (length(base_symbol) between 1 and 20),
    asset_class   text not null check (asset_class in ('crypto', 'us_equity')),
    status        text not null default 'draft'
                      check (status in ('draft', 'active', 'paused', 'stopped', 'error')),
    status_reason text not null default '',
    -- The full validated StrategyConfig (protobuf JSON form); the typed columns above
    -- repeat what queries filter on.
    config        jsonb not null,
    version       bigint not null default 1 check (version >= 1),
    risk_score    numeric(6, 2) check (risk_score between 0 and 100),
    broker        text not null default 'paper' check (broker in ('paper', 'alpaca')),
    live          boolean not null default false,
    -- The last bar the runner fully processed (restart resumes after it).
    last_bar_at   timestamptz,
    -- Start of the current run: part of every client order id of the run.
    activated_at  timestamptz,
    -- When bar 0 of the feed was (notionally) released; the runner sets it when it first
    -- picks the strategy up and moves it forward after a long downtime (the feed pauses).
    feed_anchor_at timestamptz,
    deleted_at    timestamptz,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    check (not live or broker <> 'paper')
);

create index trading_strategies_user_idx
    on public.trading_strategies (user_id, created_at desc, id) where deleted_at is null;
create index trading_strategies_active_idx
    on public.trading_strategies (status) where deleted_at is null and status = 'active';

create table public.strategy_transitions (
    id          bigint generated always as identity primary key,
    strategy_id uuid not null references public.trading_strategies (id) on delete cascade,
    user_id     uuid not null references auth.users (id) on delete cascade,
    from_status text not null
                    check (from_status in ('draft', 'active', 'paused', 'stopped', 'error')),
    to_status   text not null
                    check (to_status in ('draft', 'active', 'paused', 'stopped', 'error')),
    actor       text not null check (actor in ('user', 'risk', 'kill_switch', 'system')),
    reason      text not null default '',
    created_at  timestamptz not null default now()
);

create index strategy_transitions_strategy_idx
    on public.strategy_transitions (strategy_id, id);

-- ---------------------------------------------------------------------------
-- Orders, fills, positions (the executor's ledger)
-- ---------------------------------------------------------------------------
create table public.bot_orders (
    id               uuid primary key default gen_random_uuid(),
    user_id          uuid not null references auth.users (id) on delete cascade,
    strategy_id      uuid not null references public.trading_strategies (id) on delete cascade,
    -- Derived from (strategy, bar, intent): a retry can never create a second order.
    client_order_id  text not null unique check (length(client_order_id) between 1 and 48),
    broker           text not null check (broker in ('paper', 'alpaca')),
    broker_order_id  text,
    symbol           text not null,
    side             text not null check (side in ('buy', 'sell')),
    order_type       text not null
                         check (order_type in ('market', 'limit', 'stop', 'stop_limit')),
    time_in_force    text not null default 'gtc'
                         check (time_in_force in ('day', 'gtc', 'ioc', 'fok')),
    quantity         numeric(30, 12) not null check (quantity > 0),
    limit_price      numeric(30, 12) check (limit_price > 0),
    stop_price       numeric(30, 12) check (stop_price > 0),
    status           text not null default 'pending_submit' check (status in (
                         'pending_submit', 'pending_new', 'accepted', 'new',
                         'partially_filled', 'filled', 'done_for_day', 'canceled',
                         'expired', 'replaced', 'pending_cancel', 'pending_replace',
                         'stopped', 'rejected', 'suspended', 'calculated',
                         'accepted_for_bidding', 'pending_review', 'held')),
    filled_qty       numeric(30, 12) not null default 0
                         check (filled_qty >= 0 and filled_qty <= quantity),
    avg_fill_price   numeric(30, 12),
    reject_reason    text not null default '',
    -- Why the strategy placed it (entry, safety, grid_buy, take_profit, stop_loss, ...).
    tag              text not null default '',
    -- Set when the broker reports an order the ledger did not expect (reconciliation).
    needs_attention  boolean not null default false,
    bar_at           timestamptz not null,
    -- When the broker takes the order as placed (the paper exchange matches an order from
    -- the first bar after it): the bar, or just before it for the engine's same-bar
    -- reactions to a fill at the open, or an amended order's original time.
    decided_at       timestamptz,
    -- The bar during which the order reached a terminal status (the bot hears of it then).
    closed_bar_at    timestamptz,
    submitted_at     timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now()
);

create index bot_orders_user_idx on public.bot_orders (user_id, created_at desc, id);
create index bot_orders_strategy_idx on public.bot_orders (strategy_id, created_at desc, id);
-- Reconciliation and the fill poller scan only the orders still in flight.
create index bot_orders_open_idx on public.bot_orders (status)
    where status in ('pending_submit', 'pending_new', 'accepted', 'new',
                     'partially_filled', 'pending_cancel', 'pending_replace',
                     'accepted_for_bidding', 'calculated', 'suspended', 'done_for_day',
                     'pending_review', 'held');

create table public.bot_fills (
    id              uuid primary key default gen_random_uuid(),
    order_id        uuid not null references public.bot_orders (id) on delete cascade,
    user_id         uuid not null references auth.users (id) on delete cascade,
    strategy_id     uuid not null references public.trading_strategies (id) on delete cascade,
    client_order_id text not null,
    -- The broker's id of the execution: a fill seen twice is recorded once.
    broker_fill_id  text not null,
    symbol          text not null,
    side            text not null check (side in ('buy', 'sell')),
    quantity        numeric(30, 12) not null check (quantity > 0),
    price           numeric(30, 12) not null check (price > 0),
    fee             numeric(30, 12) not null default 0 check (fee >= 0),
    -- P&L this fill realized against the position's average entry, net of its fee.
    realized_pnl    numeric(30, 12) not null default 0,
    filled_at       timestamptz not null,
    -- The feed bar during which the executor recorded the fill (the bot hears of it then).
    bar_at          timestamptz not null,
    created_at      timestamptz not null default now(),
    unique (order_id, broker_fill_id)
);

create index bot_fills_strategy_idx on public.bot_fills (strategy_id, bar_at);
create index bot_fills_user_idx on public.bot_fills (user_id, filled_at);

create table public.bot_positions (
    strategy_id       uuid not null references public.trading_strategies (id) on delete cascade,
    symbol            text not null,
    user_id           uuid not null references auth.users (id) on delete cascade,
    quantity          numeric(30, 12) not null default 0,
    average_entry_price numeric(30, 12) not null default 0,
    realized_pnl      numeric(30, 12) not null default 0,
    total_fees        numeric(30, 12) not null default 0,
    market_price      numeric(30, 12),
    updated_at        timestamptz not null default now(),
    primary key (strategy_id, symbol)
);

create index bot_positions_user_idx on public.bot_positions (user_id);

-- ---------------------------------------------------------------------------
-- Broker credentials: Fernet-encrypted, write-only through the API
-- ---------------------------------------------------------------------------
create table public.broker_credentials (
    user_id              uuid not null references auth.users (id) on delete cascade,
    broker               text not null check (broker in ('alpaca')),
    api_key_id_encrypted bytea not null,
    api_secret_encrypted bytea not null,
    api_key_id_hint      text not null default '',
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    primary key (user_id, broker)
);

-- ---------------------------------------------------------------------------
-- Outbox: notifications written in the same transaction as the order or fill
-- ---------------------------------------------------------------------------
create table public.outbox (
    id              bigint generated always as identity primary key,
    user_id         uuid not null references auth.users (id) on delete cascade,
    kind            text not null
                        check (kind in ('trade_executed', 'risk_event', 'notify')),
    idempotency_key text not null unique,
    payload         jsonb not null,
    attempts        integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error      text not null default '',
    delivered_at    timestamptz,
    -- Set when the notification service refused the row for good (a bad payload).
    given_up_at     timestamptz,
    created_at      timestamptz not null default now()
);

create index outbox_pending_idx on public.outbox (next_attempt_at, id)
    where delivered_at is null and given_up_at is null;
-- Repeats of a block notification are suppressed per strategy (order_flow.py).
create index outbox_recent_idx on public.outbox (user_id, kind, created_at desc);

-- ---------------------------------------------------------------------------
-- The built-in paper exchange's own durable ledger (the "broker side")
-- ---------------------------------------------------------------------------
create table public.paper_accounts (
    user_id    uuid primary key references auth.users (id) on delete cascade,
    cash       numeric(30, 12) not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table public.paper_orders (
    id              uuid primary key default gen_random_uuid(),
    user_id         uuid not null references auth.users (id) on delete cascade,
    client_order_id text not null unique,
    symbol          text not null,
    side            text not null check (side in ('buy', 'sell')),
    order_type      text not null
                        check (order_type in ('market', 'limit', 'stop', 'stop_limit')),
    quantity        numeric(30, 12) not null check (quantity > 0),
    limit_price     numeric(30, 12),
    stop_price      numeric(30, 12),
    status          text not null check (status in
                        ('new', 'partially_filled', 'filled', 'canceled', 'rejected')),
    filled_qty      numeric(30, 12) not null default 0 check (filled_qty >= 0),
    reject_reason   text not null default '',
    -- Submissions that arrived for an existing client order id (refused as duplicates).
    duplicate_submissions integer not null default 0,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);

create index paper_orders_open_idx on public.paper_orders (symbol)
    where status in ('new', 'partially_filled');

create table public.paper_fills (
    id          uuid primary key default gen_random_uuid(),
    order_id    uuid not null references public.paper_orders (id) on delete cascade,
    user_id     uuid not null references auth.users (id) on delete cascade,
    fill_seq    integer not null,
    quantity    numeric(30, 12) not null check (quantity > 0),
    price       numeric(30, 12) not null check (price > 0),
    fee         numeric(30, 12) not null check (fee >= 0),
    bar_at      timestamptz not null,
    created_at  timestamptz not null default now(),
    unique (order_id, fill_seq),
    -- One fill per order per bar: replaying a bar cannot fill twice.
    unique (order_id, bar_at)
);

create table public.paper_positions (
    user_id  uuid not null references auth.users (id) on delete cascade,
    symbol   text not null,
    quantity numeric(30, 12) not null default 0,
    primary key (user_id, symbol)
);

-- ---------------------------------------------------------------------------
-- Performance summary: a materialized view refreshed concurrently
-- ---------------------------------------------------------------------------
create materialized view public.strategy_performance_summary as
select
    s.id                                    as strategy_id,
    s.user_id,
    s.name                                  as strategy_name,
    s.status,
    s.risk_score,
    coalesce(p.open_positions_count, 0)     as open_positions_count,
    coalesce(p.unrealized_pnl, 0)           as unrealized_pnl,
    coalesce(p.realized_pnl, 0)             as realized_pnl,
    coalesce(p.total_fees, 0)               as total_fees,
    coalesce(o.orders_count, 0)             as orders_count,
    coalesce(f.fills_count, 0)              as fills_count,
    now()                                   as refreshed_at
from public.trading_strategies s
left join lateral (
    select count(*) filter (where bp.quantity <> 0)::int as open_positions_count,
           sum(case when bp.market_price is null then 0
                    else (bp.market_price - bp.average_entry_price) * bp.quantity end)
               as unrealized_pnl,
           sum(bp.realized_pnl) as realized_pnl,
           sum(bp.total_fees) as total_fees
    from public.bot_positions bp where bp.strategy_id = s.id
) p on true
left join lateral (
    select count(*)::int as orders_count from public.bot_orders bo where bo.strategy_id = s.id
) o on true
left join lateral (
    select count(*)::int as fills_count from public.bot_fills bf where bf.strategy_id = s.id
) f on true
where s.deleted_at is null
with data;

-- The unique index REFRESH ... CONCURRENTLY needs.
create unique index strategy_performance_summary_strategy_idx
    on public.strategy_performance_summary (strategy_id);
create index strategy_performance_summary_user_idx
    on public.strategy_performance_summary (user_id);

-- Materialized views cannot have RLS: users read it through this view, which runs with
-- its owner's rights and filters by the caller's claims; security_barrier keeps a
-- caller's own predicates from being evaluated before the filter.
create view public.my_strategy_performance_summary with (security_barrier = true) as
select * from public.strategy_performance_summary
where user_id = (select auth.uid());

-- REFRESH needs ownership; the executor triggers it through this function only.
create function public.refresh_strategy_performance_summary()
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    refresh materialized view concurrently public.strategy_performance_summary;
end;
$$;

revoke all on function public.refresh_strategy_performance_summary() from public;

-- ---------------------------------------------------------------------------
-- Row level security
-- ---------------------------------------------------------------------------
alter table public.trading_strategies enable row level security;
alter table public.strategy_transitions enable row level security;
alter table public.bot_orders enable row level security;
alter table public.bot_fills enable row level security;
alter table public.bot_positions enable row level security;
alter table public.broker_credentials enable row level security;
alter table public.outbox enable row level security;
alter table public.paper_accounts enable row level security;
alter table public.paper_orders enable row level security;
alter table public.paper_fills enable row level security;
alter table public.paper_positions enable row level security;

-- A user's own rows.
create policy trading_strategies_owner on public.trading_strategies
    for all to authenticated
    using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy strategy_transitions_owner_read on public.strategy_transitions
    for select to authenticated using (user_id = (select auth.uid()));
create policy strategy_transitions_owner_insert on public.strategy_transitions
    for insert to authenticated with check (user_id = (select auth.uid()));
create policy bot_orders_owner on public.bot_orders
    for select to authenticated using (user_id = (select auth.uid()));
create policy bot_fills_owner on public.bot_fills
    for select to authenticated using (user_id = (select auth.uid()));
create policy bot_positions_owner on public.bot_positions
    for select to authenticated using (user_id = (select auth.uid()));
create policy broker_credentials_owner on public.broker_credentials
    for all to authenticated
    using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy paper_accounts_owner on public.paper_accounts
    for select to authenticated using (user_id = (select auth.uid()));
create policy paper_positions_owner on public.paper_positions
    for select to authenticated using (user_id = (select auth.uid()));

-- The executor's cross-user work: the runner, the relay, reconciliation, the paper exchange.
create policy trading_strategies_executor on public.trading_strategies
    for all to executor_service using (true) with check (true);
create policy strategy_transitions_executor on public.strategy_transitions
    for all to executor_service using (true) with check (true);
create policy bot_orders_executor on public.bot_orders
    for all to executor_service using (true) with check (true);
create policy bot_fills_executor on public.bot_fills
    for all to executor_service using (true) with check (true);
create policy bot_positions_executor on public.bot_positions
    for all to executor_service using (true) with check (true);
create policy broker_credentials_executor on public.broker_credentials
    for select to executor_service using (true);
create policy outbox_executor on public.outbox
    for all to executor_service using (true) with check (true);
create policy paper_accounts_executor on public.paper_accounts
    for all to executor_service using (true) with check (true);
create policy paper_orders_executor on public.paper_orders
    for all to executor_service using (true) with check (true);
create policy paper_fills_executor on public.paper_fills
    for all to executor_service using (true) with check (true);
create policy paper_positions_executor on public.paper_positions
    for all to executor_service using (true) with check (true);

-- ---------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------
grant select, insert, update, delete on
    public.trading_strategies, public.strategy_transitions, public.bot_orders,
    public.bot_fills, public.bot_positions, public.outbox, public.paper_accounts,
    public.paper_orders, public.paper_fills, public.paper_positions
    to executor_service;
grant select on public.broker_credentials to executor_service;
grant select on public.my_strategy_performance_summary to executor_service;
grant execute on function public.refresh_strategy_performance_summary() to executor_service;

-- Users edit their strategies' config but never the columns the executor owns
-- (status, version, risk score, runner cursor): those change through the API only.
grant select, delete on public.trading_strategies to authenticated;
grant insert (user_id, name, strategy_type, base_symbol, asset_class, config, broker, live)
    on public.trading_strategies to authenticated;
grant update (name, strategy_type, base_symbol, asset_class, config, version, updated_at,
              deleted_at)
    on public.trading_strategies to authenticated;
grant select on public.strategy_transitions, public.bot_orders, public.bot_fills,
    public.bot_positions, public.paper_accounts, public.paper_positions to authenticated;
-- Credentials are write-only for users: no column of the secrets can be read back.
grant select (user_id, broker, api_key_id_hint, created_at, updated_at)
    on public.broker_credentials to authenticated;
grant insert, update, delete on public.broker_credentials to authenticated;
grant select on public.my_strategy_performance_summary to authenticated;
-- Nothing on the materialized view itself: only through my_strategy_performance_summary.
revoke all on public.strategy_performance_summary from anon, authenticated;
