"""Every table with a foreign key to customers must be handled by merge, personal-data export
and erase: iterating the metadata makes a table added later fail here instead of being skipped
silently."""

from __future__ import annotations

from crmcompanion.services.duplicates import MERGE_POLICY
from crmcompanion.services.personal_data import ERASE_POLICY
from crmcompanion.store.models import Base


def _tables_referencing_customers() -> set[str]:
    return {
        table.name
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "customers" and table.name != "customers"
    }


def test_merge_policy_names_every_table_with_a_foreign_key_to_customers() -> None:
    missing = _tables_referencing_customers() - set(MERGE_POLICY)
    assert not missing, f"merge does not handle: {sorted(missing)}; add them to MERGE_POLICY"


def test_erase_policy_names_every_table_with_a_foreign_key_to_customers() -> None:
    missing = _tables_referencing_customers() - set(ERASE_POLICY)
    assert not missing, f"erase does not handle: {sorted(missing)}; add them to ERASE_POLICY"


def test_policies_name_no_table_that_does_not_exist() -> None:
    tables = set(Base.metadata.tables)
    assert set(MERGE_POLICY) <= tables
    assert set(ERASE_POLICY) <= tables
