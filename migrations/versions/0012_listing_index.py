"""listing index: what the projects list filters and sorts by, in one covering index

Revision ID: 0012_listing_index
Revises: 0011_moderation
Create Date: 2026-11-22 10:00:00

The projects list counts and pages projects that are listed (not merged) and not dormant, found by a
search or not. With merged_into_id, phase, active_at and updated_at beside the id, the database reads
them from the index alone rather than from each project's long row; and counting per phase reads an index
that starts with the phase.
"""
from alembic import op


revision = '0012_listing_index'
down_revision = '0011_moderation'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_id_phase_active_at')
        batch_op.create_index(
            'ix_projects_listing', ['id', 'merged_into_id', 'phase', 'active_at', 'updated_at'], unique=False
        )
        batch_op.drop_index('ix_projects_phase')
        batch_op.create_index('ix_projects_phase_listing', ['phase', 'merged_into_id', 'active_at'], unique=False)


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_phase_listing')
        batch_op.create_index('ix_projects_phase', ['phase'], unique=False)
        batch_op.drop_index('ix_projects_listing')
        batch_op.create_index('ix_projects_id_phase_active_at', ['id', 'phase', 'active_at'], unique=False)
