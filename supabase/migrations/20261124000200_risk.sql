-- Risk service: user risk profiles, platform configuration (default limits, tier and
-- risk-tolerance limits, fee estimates), kill switches, the risk events log, and the
-- ledger of approved orders that makes rate limits and duplicate client order ids hold
-- across replicas.
--
-- Users reach their own rows through RLS (policies on (select auth.uid())); the service
-- reads a user's profile and switches inside a transaction carrying that user's claims
-- (servicekit.db.rls.user_transaction). Cross-user work (platform switches, the order
-- ledger, writing risk events for the executor) runs as the role risk_service through
-- policies written TO risk_service.
--
-- Every change to a profile, a kill switch or the platform configuration is announced on
-- channel 'risk_config_changed', so every replica drops its cached limits at once.

-- ---------------------------------------------------------------------------
-- User profiles
-- ---------------------------------------------------------------------------
create table public.user_profiles (
    id                uuid primary key references auth.users (id) on delete cascade,
    display_name      text check (length(display_name) <= 100),
    -- Changed only by a service (billing, an operator): users have no UPDATE grant on it.
    subscription_tier text not null default 'starter'
                          check (subscription_tier in ('starter', 'pro', 'elite')),
    risk_tolerance    text not null default 'medium'
                          check (risk_tolerance in ('conservative', 'medium', 'aggressive')),
    -- On by default: a new account never reaches a live broker until the user says so.
    paper_mode        boolean not null default true,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);

-- Every new auth user gets a profile with the defaults (Supabase's documented pattern).
create function public.create_user_profile() returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    insert into public.user_profiles (id) values (new.id) on conflict (id) do nothing;
    return new;
end;
$$;
revoke execute on function public.create_user_profile() from public, anon, authenticated;

create trigger on_auth_user_created_create_profile
    after insert on auth.users
    for each row execute function public.create_user_profile();

-- Users who signed up before this migration ran get theirs now.
insert into public.user_profiles (id) select id from auth.users on conflict (id) do nothing;

-- ---------------------------------------------------------------------------
-- Platform configuration (operators edit it with SQL; the service only reads it)
-- ---------------------------------------------------------------------------
create table public.platform_config (
    key         text primary key check (key ~ '^[a-z][a-z0-9_]{0,62}$'),
    value       jsonb not null,
    description text not null default '',
    updated_at  timestamptz not null default now()
);

-- The limits every order is held to. They live in the migration (not the seed) because
-- the service refuses to decide without them (it answers UNAVAILABLE), and a production
-- project never runs the seed. Values are decimal strings; counts are integers.
-- docs/risk.md explains each limit.
insert into public.platform_config (key, value, description) values
('default_risk_limits', '{
    "max_notional_per_order": "250000",
    "max_position_pct_equity": "50",
    "max_positions": 50,
    "max_daily_loss_usd": "100000",
    "max_daily_loss_pct": "10",
    "max_drawdown_pct": "50",
    "max_orders_per_minute": 60,
    "max_orders_per_day": 5000,
    "max_leverage": "4",
    "allowed_asset_classes": ["us_equity", "crypto"]
 }', 'Platform-wide risk limits: the loosest any account gets.'),
('tier_risk_limits', '{
    "starter": {"max_notional_per_order": "10000", "max_positions": 5,
                "max_orders_per_minute": 10, "max_orders_per_day": 500, "max_leverage": "1",
                "allowed_asset_classes": ["us_equity", "crypto"]},
    "pro":     {"max_notional_per_order": "100000", "max_positions": 20,
                "max_orders_per_minute": 30, "max_orders_per_day": 2000, "max_leverage": "2",
                "allowed_asset_classes": ["us_equity", "crypto"]},
    "elite":   {"max_notional_per_order": "250000", "max_positions": 50,
                "max_orders_per_minute": 60, "max_orders_per_day": 5000, "max_leverage": "4",
                "allowed_asset_classes": ["us_equity", "crypto"]}
 }', 'Risk limits per subscription tier.'),
('risk_tolerance_limits', '{
    "conservative": {"max_position_pct_equity": "10", "max_daily_loss_pct": "2",
                     "max_drawdown_pct": "10", "max_leverage": "1"},
    "medium":       {"max_position_pct_equity": "25", "max_daily_loss_pct": "5",
                     "max_drawdown_pct": "20", "max_leverage": "2"},
    "aggressive":   {"max_position_pct_equity": "50", "max_daily_loss_pct": "10",
                     "max_drawdown_pct": "35"}
 }', 'Risk limits per risk tolerance.'),
('estimated_fee_pct', '{"us_equity": "0", "crypto": "0.25"}',
 'Fee estimate added to a buy''s notional when checking buying power, in percent.')
on conflict (key) do nothing;

-- ---------------------------------------------------------------------------
-- Kill switches
-- ---------------------------------------------------------------------------
create table public.kill_switches (
    id          uuid primary key default gen_random_uuid(),
    scope       text not null check (scope in ('platform', 'user', 'strategy')),
    user_id     uuid references auth.users (id) on delete cascade,
    -- Not a foreign key: strategies belong to the executor service.
    strategy_id uuid,
    mode        text not null check (mode in ('halted', 'reducing')),
    reason      text not null check (length(btrim(reason)) between 1 and 500),
    -- 'service': set by a service or an operator; a user cannot lift or change it.
    set_by      text not null check (set_by in ('user', 'service')),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    check (
        (scope = 'platform' and user_id is null and strategy_id is null)
        or (scope = 'user' and user_id is not null and strategy_id is null)
        or (scope = 'strategy' and user_id is not null and strategy_id is not null)
    ),
    constraint kill_switches_one_per_target unique nulls not distinct (scope, user_id, strategy_id)
);

create index kill_switches_user_idx on public.kill_switches (user_id);

-- ---------------------------------------------------------------------------
-- Risk events: every blocked trade (with its inputs) and every switch change
-- ---------------------------------------------------------------------------
create table public.risk_events (
    id          uuid primary key default gen_random_uuid(),
    -- Null for platform-wide events (a platform kill switch).
    user_id     uuid references auth.users (id) on delete cascade,
    strategy_id uuid,
    event_type  text not null check (event_type in (
                    'trade_blocked', 'kill_switch_set', 'kill_switch_cleared',
                    'profile_changed')),
    reason_code text not null default '' check (length(reason_code) <= 64),
    message     text not null default '' check (length(message) <= 2000),
    details     jsonb not null default '{}'::jsonb check (jsonb_typeof(details) = 'object'),
    created_at  timestamptz not null default now()
);

create index risk_events_user_idx on public.risk_events (user_id, created_at desc);

-- ---------------------------------------------------------------------------
-- The ledger of approved orders and the per-strategy order counters
-- ---------------------------------------------------------------------------
-- No foreign key to auth.users: every approval would take a KEY SHARE lock on the
-- user's row, and a user's bots approving at once would queue on it. The service checks
-- the user (its profile) before it gets here; rows age out with the retention.
create table public.risk_approved_orders (
    user_id         uuid not null,
    client_order_id text not null check (length(client_order_id) between 1 and 128),
    strategy_id     uuid not null,
    symbol          text not null,
    side            text not null check (side in ('buy', 'sell')),
    quantity        numeric not null check (quantity > 0),
    notional        numeric not null check (notional >= 0),
    approved_at     timestamptz not null,
    primary key (user_id, client_order_id)
);

create index risk_approved_orders_age_idx on public.risk_approved_orders (approved_at);

-- Fixed windows (the calendar minute and the UTC day): one row per strategy and window,
-- so counting costs one index probe however busy the bot.
create table public.risk_order_counters (
    strategy_id  uuid not null,
    bucket       text not null check (bucket in ('minute', 'day')),
    bucket_start timestamptz not null,
    orders       integer not null check (orders >= 0),
    primary key (strategy_id, bucket, bucket_start)
);

create index risk_order_counters_age_idx on public.risk_order_counters (bucket_start);

-- Counts the strategy's approved orders in this minute and this UTC day, looks for the
-- client order id, and, when p_reserve and every limit holds, records the order. One
-- round trip; a transaction-scoped advisory lock per strategy makes check-and-insert
-- atomic across replicas.
create function public.risk_reserve_order(
    p_user_id uuid,
    p_strategy_id uuid,
    p_client_order_id text,
    p_symbol text,
    p_side text,
    p_quantity numeric,
    p_notional numeric,
    p_now timestamptz,
    p_reserve boolean,
    p_max_per_minute integer,
    p_max_per_day integer
)
returns table (orders_this_minute integer, orders_today integer, duplicate boolean,
               reserved boolean)
language plpgsql
set search_path = ''
as $$
declare
    v_minute timestamptz := date_trunc('minute', p_now);
    v_day    timestamptz := date_trunc('day', p_now, 'UTC');
    v_rows   integer;
begin
    -- The ledger is bookkeeping beside the executor's own durable order record: losing
    -- the last few milliseconds of it in a database crash is acceptable, waiting for a
    -- WAL flush on every validation is not.
    perform set_config('synchronous_commit', 'off', true);
    perform pg_advisory_xact_lock(hashtextextended('risk_reserve_order:' || p_strategy_id::text, 0));

    select coalesce(sum(c.orders) filter (where c.bucket = 'minute'), 0),
           coalesce(sum(c.orders) filter (where c.bucket = 'day'), 0),
           exists (select 1 from public.risk_approved_orders a
                    where a.user_id = p_user_id and a.client_order_id = p_client_order_id)
      into orders_this_minute, orders_today, duplicate
      from public.risk_order_counters c
     where c.strategy_id = p_strategy_id
       and ((c.bucket = 'minute' and c.bucket_start = v_minute)
            or (c.bucket = 'day' and c.bucket_start = v_day));

    reserved := p_reserve and not duplicate
        and (p_max_per_minute is null or orders_this_minute < p_max_per_minute)
        and (p_max_per_day is null or orders_today < p_max_per_day);

    if reserved then
        -- The order and its two counters in one statement; the counters move only if the
        -- order was recorded (its id may have been taken a moment ago by another strategy
        -- of the same user, which no strategy lock covers).
        with recorded as (
            insert into public.risk_approved_orders
                (user_id, client_order_id, strategy_id, symbol, side, quantity, notional,
                 approved_at)
            values
                (p_user_id, p_client_order_id, p_strategy_id, p_symbol, p_side, p_quantity,
                 p_notional, p_now)
            on conflict do nothing
            returning 1
        )
        insert into public.risk_order_counters as c (strategy_id, bucket, bucket_start, orders)
        select p_strategy_id, w.bucket, w.bucket_start, 1
          from recorded,
               (values ('minute', v_minute), ('day', v_day)) as w (bucket, bucket_start)
        on conflict (strategy_id, bucket, bucket_start) do update set orders = c.orders + 1;
        get diagnostics v_rows = row_count;
        if v_rows = 0 then
            duplicate := true;
            reserved := false;
        end if;
    end if;
    return next;
end;
$$;
revoke execute on function public.risk_reserve_order(
    uuid, uuid, text, text, text, numeric, numeric, timestamptz, boolean, integer, integer
) from public, anon, authenticated, service_role;

-- A batch of orders in one round trip and one transaction: the service gathers the
-- validations that arrive together (see risk_service/ledger.py). Every strategy of the
-- batch is locked first, in one order, so two batches never wait on each other in a
-- cycle; then each order is checked and recorded in turn, exactly as one by one.
-- p_orders: [{user_id, strategy_id, client_order_id, symbol, side, quantity, notional,
--             now, reserve, max_per_minute, max_per_day}, ...]
create function public.risk_reserve_orders(p_orders jsonb)
returns table (item_index integer, orders_this_minute integer, orders_today integer,
               duplicate boolean, reserved boolean)
language plpgsql
set search_path = ''
as $$
declare
    v_strategy text;
    v_item     record;
    v_result   record;
begin
    perform set_config('synchronous_commit', 'off', true);
    for v_strategy in
        select distinct o ->> 'strategy_id' from jsonb_array_elements(p_orders) o order by 1
    loop
        perform pg_advisory_xact_lock(hashtextextended('risk_reserve_order:' || v_strategy, 0));
    end loop;
    for v_item in
        select e.ordinality::integer as idx, e.value as o
          from jsonb_array_elements(p_orders) with ordinality e
         order by e.ordinality
    loop
        select * into v_result from public.risk_reserve_order(
            (v_item.o ->> 'user_id')::uuid,
            (v_item.o ->> 'strategy_id')::uuid,
            v_item.o ->> 'client_order_id',
            v_item.o ->> 'symbol',
            v_item.o ->> 'side',
            (v_item.o ->> 'quantity')::numeric,
            (v_item.o ->> 'notional')::numeric,
            (v_item.o ->> 'now')::timestamptz,
            (v_item.o ->> 'reserve')::boolean,
            (v_item.o ->> 'max_per_minute')::integer,
            (v_item.o ->> 'max_per_day')::integer);
        item_index := v_item.idx;
        orders_this_minute := v_result.orders_this_minute;
        orders_today := v_result.orders_today;
        duplicate := v_result.duplicate;
        reserved := v_result.reserved;
        return next;
    end loop;
end;
$$;
revoke execute on function public.risk_reserve_orders(jsonb)
    from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Change announcements (cache invalidation on every replica)
-- ---------------------------------------------------------------------------
create function public.announce_risk_config_change() returns trigger
    language plpgsql
    set search_path = ''
as $$
declare
    v_row     record := coalesce(new, old);
    v_user_id uuid;
begin
    if tg_table_name = 'user_profiles' then
        v_user_id := v_row.id;
    elsif tg_table_name = 'kill_switches' then
        v_user_id := v_row.user_id;
    end if;
    perform pg_notify(
        'risk_config_changed',
        json_build_object('table', tg_table_name, 'user_id', v_user_id)::text
    );
    return null;
end;
$$;

create trigger user_profiles_announce
    after insert or update or delete on public.user_profiles
    for each row execute function public.announce_risk_config_change();
create trigger kill_switches_announce
    after insert or update or delete on public.kill_switches
    for each row execute function public.announce_risk_config_change();
create trigger platform_config_announce
    after insert or update or delete on public.platform_config
    for each row execute function public.announce_risk_config_change();

create function public.touch_updated_at() returns trigger
    language plpgsql
    set search_path = ''
as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

create trigger user_profiles_touch
    before update on public.user_profiles
    for each row execute function public.touch_updated_at();
create trigger kill_switches_touch
    before update on public.kill_switches
    for each row execute function public.touch_updated_at();
create trigger platform_config_touch
    before update on public.platform_config
    for each row execute function public.touch_updated_at();

-- ---------------------------------------------------------------------------
-- Row level security
-- ---------------------------------------------------------------------------
alter table public.user_profiles enable row level security;
alter table public.platform_config enable row level security;
alter table public.kill_switches enable row level security;
alter table public.risk_events enable row level security;
alter table public.risk_approved_orders enable row level security;
alter table public.risk_order_counters enable row level security;

-- A user: their own profile (read; change tolerance, paper mode and name: see grants).
create policy user_profiles_owner_read on public.user_profiles
    for select to authenticated using (id = (select auth.uid()));
create policy user_profiles_owner_update on public.user_profiles
    for update to authenticated
    using (id = (select auth.uid())) with check (id = (select auth.uid()));

-- The service: creates a missing profile and changes the tier (a service caller only).
create policy user_profiles_service on public.user_profiles
    for all to risk_service using (true) with check (true);

-- Anyone signed in may read the platform configuration (it is what limits them).
create policy platform_config_read on public.platform_config
    for select to authenticated, risk_service using (true);

-- A user: sees platform switches and their own; sets, changes and lifts only their own
-- user- and strategy-level switches that a service did not set.
create policy kill_switches_owner_read on public.kill_switches
    for select to authenticated
    using (scope = 'platform' or user_id = (select auth.uid()));
create policy kill_switches_owner_insert on public.kill_switches
    for insert to authenticated
    with check (user_id = (select auth.uid()) and scope <> 'platform' and set_by = 'user');
create policy kill_switches_owner_update on public.kill_switches
    for update to authenticated
    using (user_id = (select auth.uid()) and set_by = 'user')
    with check (user_id = (select auth.uid()) and scope <> 'platform' and set_by = 'user');
create policy kill_switches_owner_delete on public.kill_switches
    for delete to authenticated
    using (user_id = (select auth.uid()) and set_by = 'user');

-- The service (a service or operator caller, and loading platform switches): every row.
create policy kill_switches_service on public.kill_switches
    for all to risk_service using (true) with check (true);

-- A user: reads their own risk events. The service writes them for the executor.
create policy risk_events_owner_read on public.risk_events
    for select to authenticated using (user_id = (select auth.uid()));
create policy risk_events_service on public.risk_events
    for all to risk_service using (true) with check (true);

-- Bookkeeping of the service only.
create policy risk_approved_orders_service on public.risk_approved_orders
    for all to risk_service using (true) with check (true);
create policy risk_order_counters_service on public.risk_order_counters
    for all to risk_service using (true) with check (true);

-- ---------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------
grant select, insert, update on public.user_profiles to risk_service;
grant select on public.platform_config to risk_service;
grant select, insert, update, delete on public.kill_switches to risk_service;
grant select, insert, delete on public.risk_events to risk_service;
grant select, insert, delete on public.risk_approved_orders to risk_service;
grant select, insert, update, delete on public.risk_order_counters to risk_service;
grant execute on function public.risk_reserve_order(
    uuid, uuid, text, text, text, numeric, numeric, timestamptz, boolean, integer, integer
) to risk_service;
grant execute on function public.risk_reserve_orders(jsonb) to risk_service;

-- Users: never the tier (column grants), never the bookkeeping tables.
grant select on public.user_profiles to authenticated;
grant update (display_name, risk_tolerance, paper_mode) on public.user_profiles to authenticated;
grant select on public.platform_config to authenticated;
grant select, insert, update, delete on public.kill_switches to authenticated;
grant select on public.risk_events to authenticated;
