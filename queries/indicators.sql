-- The indicator catalogue, in display order.
SELECT code, name_vi, name_en, short_vi, short_en, numerator_vi, numerator_en,
       denominator_vi, denominator_en, time_agg, higher_is_better, display_unit,
       decimals, grp, unit_vi, unit_en, gap_vi, gap_en, headline, sort_order
FROM indicators
ORDER BY sort_order, code
