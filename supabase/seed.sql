-- Demo data, applied after the migrations by `python -m servicekit.db.migrate --seed`
-- (`make run` and the test template do this) or by `supabase db reset` on a Supabase
-- project. Every statement is idempotent (ON CONFLICT DO NOTHING): applying the seed
-- twice changes nothing. It runs as the migration user, in one transaction.

-- section: demo user
-- A fixed id, so docs and `make token USER=...` can name it.
insert into auth.users (id, email)
values ('00000000-0000-4000-8000-000000000001', 'demo@example.com')
on conflict do nothing;

-- section: risk (platform defaults, demo profile)
-- The platform's default limits ship in the risk migration (a production project needs
-- them and never runs the seed); here only the demo user's profile: tier 'pro', risk
-- tolerance 'medium', paper mode on. The profile row may already exist (created by the
-- trigger on auth.users with the defaults), so this sets the demo values either way.
insert into public.user_profiles (id, display_name, subscription_tier, risk_tolerance, paper_mode)
values ('00000000-0000-4000-8000-000000000001', 'Demo trader', 'pro', 'medium', true)
on conflict (id) do update
set display_name = excluded.display_name,
    subscription_tier = excluded.subscription_tier,
    risk_tolerance = excluded.risk_tolerance,
    paper_mode = excluded.paper_mode;

-- section: executor (demo strategies)
-- The demo user's two paper bots, active so `make run` trades them on the synthetic feed
-- (1-minute bars replayed at EXECUTOR_REPLAY_SPEED). The config is the JSON form of
-- trading.types.v1.StrategyConfig that strategies.proto_codec.config_to_dict writes.
-- The DCA's 3% stop loss is held by the executor (not a resting broker order): a breach
-- (first at bar 2165 of the default feed) sells at market and pauses it -- see docs/executor.md.
insert into public.trading_strategies
    (id, user_id, name, strategy_type, base_symbol, asset_class, status, status_reason,
     config, risk_score, broker, activated_at)
values
    ('00000000-0000-4000-8000-00000000e001', '00000000-0000-4000-8000-000000000001',
     'Demo BTC DCA', 'dca', 'BTC/USD', 'crypto', 'active', 'seeded demo strategy',
     '{"name": "Demo BTC DCA", "strategy_type": "dca", "risk_level": "medium", "base_symbol": "BTC/USD", "asset_class": "crypto", "time_horizon": "swing", "automation_level": "fully_auto", "timeframe": "1m", "capital_allocation": {"allocated_capital": "5000", "max_capital_per_trade": "1000"}, "position_sizing": {"method": "fixed_amount", "fixed_amount": "500", "max_positions": 1}, "risk_controls": {"max_leverage": "1", "stop_loss_pct": "3"}, "dca": {"base_order_amount": "500", "safety_order_amount": "500", "max_safety_orders": 3, "price_deviation_pct": "0.2", "step_scale": "1", "volume_scale": "1", "take_profit_pct": "0.3"}}'::jsonb, 35, 'paper', '2026-01-01T00:00:00Z'),
    ('00000000-0000-4000-8000-00000000e002', '00000000-0000-4000-8000-000000000001',
     'Demo ETH grid', 'spot_grid', 'ETH/USD', 'crypto', 'active', 'seeded demo strategy',
     '{"name": "Demo ETH grid", "strategy_type": "spot_grid", "risk_level": "low", "base_symbol": "ETH/USD", "asset_class": "crypto", "time_horizon": "intraday", "automation_level": "fully_auto", "timeframe": "1m", "capital_allocation": {"allocated_capital": "5000"}, "position_sizing": {"max_positions": 5}, "risk_controls": {"max_leverage": "1"}, "grid": {"lower_price": "2400", "upper_price": "2600", "grid_mode": "arithmetic", "grid_count": 10, "quantity_per_grid": "0.1"}}'::jsonb, 30, 'paper', '2026-01-01T00:00:00Z')
on conflict (id) do nothing;

insert into public.strategy_transitions (strategy_id, user_id, from_status, to_status, actor, reason)
select s.id, s.user_id, 'draft', 'active', 'system', 'seeded demo strategy'
from public.trading_strategies s
where s.id in ('00000000-0000-4000-8000-00000000e001', '00000000-0000-4000-8000-00000000e002')
  and not exists (select 1 from public.strategy_transitions t where t.strategy_id = s.id);

