//! [`Policy`]: a column the library writes itself (an optimistic-locking version, the time of
//! a write), and what each write does with it. The derive renders the fixed
//! statements and the in-memory store evaluates them by these rules, so the two cannot drift.

/// What the library keeps in a column on the user's behalf, declared by its field's attribute
/// (`#[repo(version)]`, `#[repo(created_at)]`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Optimistic locking: `1` on insert, incremented by every write, which first checks it
    /// against the version the writer read.
    Version,
    /// The time the row was inserted: set by the insert, never written again.
    CreatedAt,
    /// The time of the row's latest write: set by the insert and by every update.
    UpdatedAt,
    /// Who inserted the row (the handle's actor): set once, like [`Policy::CreatedAt`].
    CreatedBy,
    /// Who wrote the row last: set by the insert and by every write, like
    /// [`Policy::UpdatedAt`].
    UpdatedBy,
    /// Soft delete: `NULL` while the row lives; `delete` sets it to the time of the delete
    /// instead of removing the row, and every read leaves out the rows it marks.
    DeletedAt,
    /// Tenant scoping: the tenant a row belongs to, set by the insert from the handle's tenant
    /// and never written again; every statement of a scoped handle selects that tenant's rows
    /// only.
    Tenant,
}

impl Policy {
    /// Whether an update writes the column from a bound value: not the version (incremented
    /// in place) nor what the insert set once.
    pub const fn bound_by_update(self) -> bool {
        matches!(self, Policy::UpdatedAt | Policy::UpdatedBy)
    }

    /// Whether every write, a patch or a delete too, sets the column from its stamp.
    pub const fn touched_by_every_write(self) -> bool {
        matches!(self, Policy::UpdatedAt | Policy::UpdatedBy)
    }

    /// Whether an update leaves the column as it is: what the insert set once (the tenant
    /// too: no write moves a row to another tenant), and the soft-delete mark, which only a
    /// delete and a restore write (an update writes only rows that live).
    pub const fn kept_by_update(self) -> bool {
        matches!(
            self,
            Policy::CreatedAt | Policy::CreatedBy | Policy::DeletedAt | Policy::Tenant
        )
    }

    /// The attribute that declares it.
    pub const fn attribute(self) -> &'static str {
        match self {
            Policy::Version => "version",
            Policy::CreatedAt => "created_at",
            Policy::UpdatedAt => "updated_at",
            Policy::CreatedBy => "created_by",
            Policy::UpdatedBy => "updated_by",
            Policy::DeletedAt => "deleted_at",
            Policy::Tenant => "tenant",
        }
    }
}

/// The policy columns of a table, as its writes render them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stamps<'a> {
    /// The optimistic-locking version column.
    pub version: Option<&'a str>,
    /// The columns an update never writes (set once, by the insert).
    pub kept: &'a [&'a str],
    /// The soft-delete column: an update writes only a row that lives (`NULL` there), and
    /// a unique key holds among those rows only.
    pub deleted: Option<&'a str>,
    /// The tenant column: an update writes only a row of the tenant bound after its key, and
    /// an upsert only a stored row of the inserted row's tenant.
    pub tenant: Option<&'a str>,
}

impl Stamps<'_> {
    /// No policy column.
    pub const NONE: Stamps<'static> = Stamps {
        version: None,
        kept: &[],
        deleted: None,
        tenant: None,
    };

    /// Whether an update writes `column` from a bound value.
    pub fn writes(&self, column: &str) -> bool {
        self.version != Some(column) && !self.kept.contains(&column)
    }
}
