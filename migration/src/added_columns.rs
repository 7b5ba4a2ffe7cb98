//! Columns added to existing tables, one statement each (SQLite's ALTER
//! TABLE adds one column at a time), and dropped again in reverse order.

use sea_orm_migration::prelude::*;

/// Adds each (table, column), in order.
pub(crate) async fn add(
    manager: &SchemaManager<'_>,
    columns: Vec<(&'static str, ColumnDef)>,
) -> Result<(), DbErr> {
    for (table, mut column) in columns {
        manager
            .alter_table(Table::alter().table(table).add_column(&mut column).take())
            .await?;
    }
    Ok(())
}

/// Drops each (table, column), last added first.
pub(crate) async fn drop(
    manager: &SchemaManager<'_>,
    columns: Vec<(&'static str, ColumnDef)>,
) -> Result<(), DbErr> {
    for (table, column) in columns.into_iter().rev() {
        manager
            .alter_table(
                Table::alter()
                    .table(table)
                    .drop_column(column.get_column_name())
                    .take(),
            )
            .await?;
    }
    Ok(())
}
