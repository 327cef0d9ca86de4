"""project facets: what the list's facets count, kept on the project and indexed with what lists filter by

Revision ID: 0013_project_facets
Revises: 0012_listing_index
Create Date: 2026-11-22 23:00:00

Facet counts group the listed projects by phase and facet key. With the key on the search document, every
count read each project's document as well as its project; on the project, beside the phase in an index,
the database reads it from the index alone, and for the unsearched list in the order it groups by.
"""
import sqlalchemy as sa
from alembic import op


revision = '0013_project_facets'
down_revision = '0012_listing_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facets', sa.Text(), server_default='', nullable=False))
    op.execute(
        "UPDATE projects SET facets = (SELECT search_documents.facets FROM search_documents"
        " WHERE search_documents.id = projects.id) WHERE EXISTS (SELECT 1 FROM search_documents"
        " WHERE search_documents.id = projects.id)"
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_listing')
        batch_op.create_index(
            'ix_projects_listing',
            ['id', 'merged_into_id', 'phase', 'active_at', 'updated_at', 'facets'],
            unique=False,
        )
        batch_op.drop_index('ix_projects_phase_listing')
        batch_op.create_index('ix_projects_facets', ['merged_into_id', 'phase', 'facets', 'active_at'], unique=False)
    # Not batch_alter_table on SQLite: recreating search_documents would drop the full-text index's triggers
    # (0007_search). SQLite drops a column in place since 3.35.
    op.drop_column('search_documents', 'facets')


def downgrade():
    op.add_column('search_documents', sa.Column('facets', sa.Text(), server_default='', nullable=False))
    op.execute(
        "UPDATE search_documents SET facets = (SELECT projects.facets FROM projects"
        " WHERE projects.id = search_documents.id) WHERE search_documents.kind = 'project'"
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_facets')
        batch_op.create_index('ix_projects_phase_listing', ['phase', 'merged_into_id', 'active_at'], unique=False)
        batch_op.drop_index('ix_projects_listing')
        batch_op.create_index(
            'ix_projects_listing', ['id', 'merged_into_id', 'phase', 'active_at', 'updated_at'], unique=False
        )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('facets')
