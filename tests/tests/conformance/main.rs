//! The conformance suite: every case is written once, against `&Db`, and instantiated for
//! SQLite, PostgreSQL and MySQL/MariaDB by `conformance!`.

// Cases are `pub` for the instantiating macro; nothing here is an API.
#![allow(unreachable_pub)]

mod aggregates;
mod batch;
mod blog;
mod conditional;
mod crud;
mod domain;
mod dynamic_edges;
mod embed;
mod encryption;
mod entities;
mod errors;
mod filters;
mod keyset;
mod leaks;
mod mapping;
mod migrations;
mod patches;
mod policies;
mod ports;
mod projections;
mod references;
mod relations;
mod sensitive;
mod soft_delete;
mod streams;
mod tenants;
mod transactions;
mod values;

/// One `#[tokio::test]` per case and backend, in modules `sqlite`, `rusqlite`, `postgres`,
/// `mysql`, `galera` (a node of a three-node MariaDB Galera cluster) and `memory`. Cases under `sql_only` need SQL (migrations, hand-written queries, rows planted
/// with raw statements) and do not run on the in-memory store; the README lists them.
macro_rules! conformance {
    (
        everywhere: [$($module:ident :: $case:ident),* $(,)?],
        sql_only: [$($sql_module:ident :: $sql_case:ident),* $(,)?] $(,)?
    ) => {
        conformance!(@backend sqlite, Sqlite, $($module::$case,)* $($sql_module::$sql_case),*);
        conformance!(@backend rusqlite, Rusqlite, $($module::$case,)* $($sql_module::$sql_case),*);
        conformance!(@backend postgres, Postgres, $($module::$case,)* $($sql_module::$sql_case),*);
        conformance!(@backend mysql, MySql, $($module::$case,)* $($sql_module::$sql_case),*);
        conformance!(@backend galera, Galera, $($module::$case,)* $($sql_module::$sql_case),*);
        conformance!(@backend memory, Memory, $($module::$case),*);
    };
    (@backend $backend:ident, $variant:ident, $($module:ident :: $case:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    repo_tests::run_case(
                        repo_tests::Backend::$variant,
                        stringify!($case),
                        crate::$module::$case,
                    )
                    .await;
                }
            )*
        }
    };
}

conformance!(
    everywhere: [
        tenants::every_read_sees_only_the_handles_tenant,
        tenants::no_write_reaches_another_tenants_row,
        tenants::a_handle_without_a_tenant_reaches_nothing,
        tenants::relations_stay_inside_the_tenant,
        tenants::an_aggregate_stays_in_its_tenant,
        soft_delete::a_deleted_row_is_marked_and_every_read_leaves_it_out,
        soft_delete::removes_and_deletes_by_filter_mark_and_check_the_version,
        soft_delete::unique_keys_hold_among_the_rows_that_live,
        soft_delete::relations_and_projections_leave_deleted_rows_out,
        soft_delete::an_aggregate_deleted_softly_keeps_its_children_until_purged,
        policies::inserts_start_at_version_one_stamped_to_the_microsecond,
        policies::update_checks_and_moves_the_version_and_only_updated_at,
        policies::patches_move_the_version_and_check_the_one_they_expect,
        policies::remove_deletes_only_the_version_it_read,
        policies::upserts_insert_at_one_and_update_only_the_version_read,
        policies::of_two_writers_who_read_the_same_version_one_wins,
        policies::a_stale_write_rolls_back_its_unit_of_work,
        policies::writes_record_the_actor_of_the_handle,
        policies::an_aggregate_is_saved_at_the_version_it_was_read_at,
        policies::write_returns_nothing_in_one_statement,
        sensitive::sensitive_values_stay_out_of_debug_and_write_errors,
        encryption::encrypted_fields_are_ciphertext_at_rest_and_plaintext_in_the_entity,
        encryption::keys_rotate_and_reencryption_moves_every_row_to_the_newest_key,
        encryption::tampering_and_missing_keys_are_typed_errors_that_write_nothing,
        encryption::an_encrypted_field_maps_to_and_from_the_domain_type,
        references::foreign_keys_refuse_orphans_and_cascade_set_null_or_refuse_deletes,
        ports::a_port_declared_in_the_domain_is_implemented_with_forwarded_and_derived_methods,
        ports::derived_in_lists_and_text_matches_treat_values_literally,
        ports::port_methods_run_inside_a_transaction_and_roll_back,
        domain::domain_value_objects_map_to_embedded_records,
        embed::embedded_values_round_trip_flattened_into_prefixed_columns,
        domain::repository_speaks_the_domain_type,
        domain::a_domain_value_that_cannot_be_stored_is_invalid_input_and_writes_nothing,
        mapping::rich_types_round_trip_exactly,
        mapping::finders_take_rich_key_types,
        crud::insert_returns_the_stored_row_with_its_generated_key,
        crud::get_of_a_missing_key_is_not_found_and_find_is_none,
        crud::find_by_unique_field_returns_the_row_or_none,
        crud::find_by_composite_unique_key,
        crud::list_orders_by_any_column_and_paginates,
        crud::count_and_exists_follow_the_rows,
        crud::update_writes_every_non_key_field_and_returns_the_stored_row,
        crud::update_of_a_missing_row_is_not_found_and_writes_nothing,
        crud::delete_reports_whether_a_row_was_deleted,
        crud::upsert_inserts_then_updates_by_key,
        crud::composite_key_round_trips_through_every_method,
        crud::entity_with_only_key_columns_supports_every_method,
        crud::narrow_generated_key_is_returned_in_its_own_type,
        crud::repository_works_as_a_trait_object,
        filters::a_search_form_of_optional_fields_is_one_filter_for_a_page_and_its_total,
        filters::every_operator_selects_what_sql_selects,
        filters::text_matches_are_literal_and_a_null_meets_neither_a_filter_nor_its_negation,
        filters::delete_where_deletes_what_the_filter_selects_and_first_where_takes_the_order,
        patches::a_patch_writes_only_the_fields_it_gives_and_returns_the_stored_row,
        patches::a_patch_of_a_missing_row_is_not_found_and_a_conflict_writes_nothing,
        patches::patch_where_writes_every_selected_row_and_returns_them_in_key_order,
        conditional::insert_or_ignore_inserts_only_the_rows_whose_key_is_free,
        conditional::a_conflict_on_another_unique_key_is_refused_and_writes_nothing,
        conditional::upsert_on_a_unique_key_updates_the_row_holding_it_and_keeps_its_key,
        conditional::racing_conditional_writers_leave_one_row_per_key,
        projections::a_projection_reads_some_columns_in_order_and_pages,
        projections::aggregates_group_by_columns_in_one_statement,
        projections::aggregates_without_groups_are_one_row_even_over_no_rows,
        projections::count_by_returns_a_map_keyed_by_the_group,
        projections::children_load_grouped_per_parent_in_one_statement,
        keyset::keyset_pages_walk_every_row_once_in_any_order,
        keyset::a_keyset_page_neither_repeats_nor_skips_rows_written_before_it,
        keyset::keyset_pages_refuse_what_they_cannot_continue,
        keyset::keyset_pages_continue_after_rich_values,
        streams::a_stream_yields_the_rows_a_listing_returns,
        streams::a_dropped_stream_gives_its_connection_back,
        streams::a_stream_inside_a_transaction_sees_its_writes,
        blog::the_blog_scenario_needs_no_hand_written_sql,
        blog::links_are_added_removed_and_set_exactly_idempotently,
        relations::each_kind_of_relation_loads_per_row_in_the_rows_order,
        relations::nested_loads_take_one_statement_per_relation_whatever_the_rows,
        relations::relations_filter_and_count_in_one_statement,
        relations::relations_load_inside_a_transaction_what_it_wrote,
        relations::derived_queries_follow_relations_through_their_names,
        aggregates::an_aggregate_is_saved_loaded_and_deleted_as_one_unit,
        aggregates::a_failed_save_of_an_aggregate_writes_nothing,
        aggregates::an_aggregate_speaks_its_domain_type,
        dynamic_edges::dynamic_operations_write_and_read_embedded_values,
        dynamic_edges::dynamic_operations_speak_the_domain_type,
        dynamic_edges::keyset_pages_and_patches_on_a_composite_key_of_text,
        batch::insert_many_returns_rows_in_input_order_with_keys,
        batch::insert_many_of_nothing_runs_no_statement,
        batch::insert_many_writes_nothing_when_one_row_conflicts,
        batch::insert_many_of_100_000_rows_succeeds,
        batch::get_many_returns_found_rows_in_request_order,
        batch::get_many_with_composite_keys,
        errors::duplicate_unique_value_is_a_conflict_naming_the_field,
        errors::duplicate_key_is_a_conflict_naming_the_key,
        errors::upsert_conflicting_on_another_unique_key_changes_nothing,
        errors::conflict_messages_never_contain_the_value,
        errors::column_of_the_wrong_type_is_a_decode_error_naming_it,
        errors::null_in_a_required_column_is_not_null,
        leaks::a_unique_violation_keeps_no_bound_value,
        leaks::a_foreign_key_violation_keeps_no_bound_value,
        leaks::a_not_null_violation_keeps_no_bound_value,
        values::option_fields_round_trip_none_and_some,
        values::hostile_strings_round_trip_unchanged,
        values::numeric_edge_values_round_trip,
        values::skipped_field_is_default_when_read,
        values::renamed_column_is_used_in_the_table,
        transactions::unit_of_work_commits_writes_of_several_repositories,
        transactions::failed_unit_of_work_leaves_no_partial_write,
        transactions::dropped_transaction_rolls_back,
        transactions::insert_many_inside_a_transaction_fails_alone,
        transactions::nested_transaction_rolls_back_only_its_own_writes,
        transactions::abandoned_savepoint_aborts_the_whole_transaction,
        transactions::transient_failure_reruns_the_whole_unit_of_work,
        transactions::permanent_failure_is_not_retried,
        transactions::read_only_and_isolated_transactions_run_on_every_backend,
        transactions::deadlocked_transactions_both_succeed_through_retry,
        transactions::concurrent_writers_lose_nothing,
        transactions::serializable_write_skew_is_retried_until_both_succeed,
        transactions::a_unit_of_work_fails_with_the_applications_error_and_retries_through_it,
    ],
    sql_only: [
        migrations::soft_delete_migrates_unique_keys_to_the_rows_that_live_and_back,
        ports::hand_written_queries_bind_named_parameters_and_map_rows,
        projections::hand_written_queries_return_projections,
        migrations::generated_migrations_build_the_schema_the_repositories_use_with_no_drift,
        migrations::a_changed_entity_migrates_with_rows_preserved_and_down_restores_it,
        migrations::an_enum_gains_a_value_after_renames_without_unsafe_changes,
        migrations::a_tampered_migration_is_refused_naming_it,
        migrations::concurrent_runners_apply_each_migration_exactly_once,
        migrations::an_unsafe_change_is_refused_until_allowed,
        migrations::seeds_run_once_per_database_and_refuse_a_changed_seed,
        migrations::drift_reports_what_was_changed_by_hand,
        migrations::encrypted_fields_migrate_with_their_blind_indexes_and_no_drift,
        mapping::enum_column_rejects_unknown_values_by_check_and_on_read,
        mapping::failed_conversion_from_the_database_is_a_decode_error,
        domain::stored_data_failing_domain_validation_is_invalid_input_naming_the_field,
        sensitive::sensitive_values_stay_out_of_read_errors,
        leaks::a_check_violation_keeps_no_bound_value,
        leaks::a_data_exception_keeps_no_bound_value,
        leaks::a_deadlock_keeps_no_bound_value,
        transactions::statements_of_ones_own_join_the_unit_of_work,
    ],
);
