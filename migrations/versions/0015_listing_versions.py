"""listing versions: a token changed by every write that could change what the projects lists count

Revision ID: 0015_listing_versions
Revises: 0014_link_indexes
Create Date: 2026-11-23 11:00:00

Facet counts are the costliest part of a projects list. They are kept, per process, under this token, which
every transaction that writes to what the lists filter and count by replaces as it commits.
"""
import uuid

import sqlalchemy as sa
from alembic import op


revision = '0015_listing_versions'
down_revision = '0014_link_indexes'
branch_labels = None
depends_on = None


def upgrade():
    listing_versions = op.create_table(
        'listing_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_versions')),
    )
    op.bulk_insert(listing_versions, [{'id': 1, 'token': uuid.uuid4().hex}])


def downgrade():
    op.drop_table('listing_versions')
