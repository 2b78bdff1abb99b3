-- Insert or update one indicator definition (every field the views read; see
-- dashboard/catalog/defaults.py for the defaults the store fills in first).
INSERT INTO indicators (code, name_vi, name_en, short_vi, short_en, numerator_vi, numerator_en,
                        denominator_vi, denominator_en, time_agg, higher_is_better, display_unit,
                        decimals, grp, unit_vi, unit_en, gap_vi, gap_en, headline, sort_order)
VALUES (:code, :name_vi, :name_en, :short_vi, :short_en, :numerator_vi, :numerator_en,
        :denominator_vi, :denominator_en, :time_agg, :higher_is_better, :display_unit,
        :decimals, :grp, :unit_vi, :unit_en, :gap_vi, :gap_en, :headline, :sort_order)
ON CONFLICT (code) DO UPDATE SET
    name_vi = excluded.name_vi, name_en = excluded.name_en,
    short_vi = excluded.short_vi, short_en = excluded.short_en,
    numerator_vi = excluded.numerator_vi, numerator_en = excluded.numerator_en,
    denominator_vi = excluded.denominator_vi, denominator_en = excluded.denominator_en,
    time_agg = excluded.time_agg, higher_is_better = excluded.higher_is_better,
    display_unit = excluded.display_unit, decimals = excluded.decimals, grp = excluded.grp,
    unit_vi = excluded.unit_vi, unit_en = excluded.unit_en,
    gap_vi = excluded.gap_vi, gap_en = excluded.gap_en,
    headline = excluded.headline, sort_order = excluded.sort_order
