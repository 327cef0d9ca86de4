"""link indexes: the projects with a service or a tag, read from the index alone

Revision ID: 0014_link_indexes
Revises: 0013_project_facets
Create Date: 2026-11-23 10:00:00

Similar projects and the filter lists find the projects that have a service or a tag. The indexes on
service_id and tag_id alone made the database look up each link's row for its project_id; with the
project_id beside it, the index answers by itself.
"""
from alembic import op


revision = '0014_link_indexes'
down_revision = '0013_project_facets'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_project_services_service_project', 'project_services', ['service_id', 'project_id'])
    op.drop_index('ix_project_services_service_id', table_name='project_services')
    op.create_index('ix_project_tags_tag_project', 'project_tags', ['tag_id', 'project_id'])
    op.drop_index('ix_project_tags_tag_id', table_name='project_tags')


def downgrade():
    op.create_index('ix_project_tags_tag_id', 'project_tags', ['tag_id'])
    op.drop_index('ix_project_tags_tag_project', table_name='project_tags')
    op.create_index('ix_project_services_service_id', 'project_services', ['service_id'])
    op.drop_index('ix_project_services_service_project', table_name='project_services')
