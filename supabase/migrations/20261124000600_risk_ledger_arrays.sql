-- The order ledger's batch call takes parallel arrays instead of one jsonb document.
--
-- Every approved order is one call of this function, so its cost is paid on every
-- validation: with arrays the service sends the batch in the binary protocol (no JSON
-- to build in Python, none to parse here), and the uuids, numerics and timestamps
-- arrive typed. Same semantics as before: per-strategy advisory locks taken up front in
-- one order (no deadlock between batches), then each order in array order.

drop function public.risk_reserve_orders(jsonb);

create function public.risk_reserve_orders(
    p_user_ids uuid[],
    p_strategy_ids uuid[],
    p_client_order_ids text[],
    p_symbols text[],
    p_sides text[],
    p_quantities numeric[],
    p_notionals numeric[],
    p_now timestamptz[],
    p_reserve boolean[],
    p_max_per_minute integer[],
    p_max_per_day integer[]
)
returns table (item_index integer, orders_this_minute integer, orders_today integer,
               duplicate boolean, reserved boolean)
language plpgsql
set search_path = ''
as $$
declare
    v_count    integer := cardinality(p_strategy_ids);
    v_strategy uuid;
    v_result   record;
begin
    if v_count is null
       or cardinality(p_user_ids) is distinct from v_count
       or cardinality(p_client_order_ids) is distinct from v_count
       or cardinality(p_symbols) is distinct from v_count
       or cardinality(p_sides) is distinct from v_count
       or cardinality(p_quantities) is distinct from v_count
       or cardinality(p_notionals) is distinct from v_count
       or cardinality(p_now) is distinct from v_count
       or cardinality(p_reserve) is distinct from v_count
       or cardinality(p_max_per_minute) is distinct from v_count
       or cardinality(p_max_per_day) is distinct from v_count then
        raise exception 'risk_reserve_orders: the arrays must have one element per order'
            using errcode = '22023';
    end if;
    perform set_config('synchronous_commit', 'off', true);
    for v_strategy in select distinct s from unnest(p_strategy_ids) as s order by 1 loop
        perform pg_advisory_xact_lock(
            hashtextextended('risk_reserve_order:' || v_strategy::text, 0));
    end loop;
    for i in 1 .. v_count loop
        select * into v_result from public.risk_reserve_order(
            p_user_ids[i], p_strategy_ids[i], p_client_order_ids[i], p_symbols[i],
            p_sides[i], p_quantities[i], p_notionals[i], p_now[i], p_reserve[i],
            p_max_per_minute[i], p_max_per_day[i]);
        item_index := i;
        orders_this_minute := v_result.orders_this_minute;
        orders_today := v_result.orders_today;
        duplicate := v_result.duplicate;
        reserved := v_result.reserved;
        return next;
    end loop;
end;
$$;

revoke execute on function public.risk_reserve_orders(
    uuid[], uuid[], text[], text[], text[], numeric[], numeric[], timestamptz[], boolean[],
    integer[], integer[]
) from public, anon, authenticated, service_role;
grant execute on function public.risk_reserve_orders(
    uuid[], uuid[], text[], text[], text[], numeric[], numeric[], timestamptz[], boolean[],
    integer[], integer[]
) to risk_service;
